//! Full-text and title search over the Xapian indexes embedded in archives, ranked as libzim
//! ranks them. [`terms`] turns what a user typed into index terms the way Xapian's query parser
//! does for libzim; [`query`] is the tree it produces; the matcher walks the postlists of the
//! [`crate::glass`] reader; [`embedded`] answers one archive's searches and [`snippet`] cuts
//! the passages shown with results. Everything here is synchronous and runs on blocking
//! threads.

pub mod embedded;
pub mod matcher;
mod nodes;
pub mod query;
mod select;
pub mod snippet;
pub mod terms;
