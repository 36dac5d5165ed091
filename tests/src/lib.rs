//! Support code for ozm's end-to-end tests and demo: a small writer for building ZIM archives.

pub mod zim_writer;
