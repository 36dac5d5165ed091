//! Support for ozm's end-to-end tests: a fixture that runs the real `ozmd` and `ozm` binaries on
//! a temporary socket, a small ZIM writer for archives no real test archive covers, and what
//! the load drivers share.

pub mod bench;
pub mod fixture;
pub mod zim_writer;
