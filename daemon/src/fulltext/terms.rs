//! Query terms as Xapian makes them for libzim; being written.
