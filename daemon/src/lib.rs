//! `ozmd`, the ozm daemon: it owns every open ZIM archive and runs the MCP session of every
//! connected `ozm mcp` shim, over one Unix socket.
//!
//! Start-up is a short sequence (see `main.rs`): settings, logging, take the socket
//! ([`socket::bind`]), then [`server::serve`] until a shutdown signal.

pub mod archive;
pub mod config;
pub mod conflicts;
pub mod content;
pub mod fulltext;
pub mod glass;
pub mod http;
pub mod instances;
pub mod library;
pub mod links;
pub mod logging;
pub mod mcp;
pub mod metrics;
mod operator;
pub mod ownindex;
pub mod process;
pub mod python_instances;
pub mod registry;
mod relay;
pub mod reload;
pub mod rendered;
pub mod server;
pub mod settings;
pub mod socket;
pub mod systemd;
