//! The handshake: the first frame in each direction.
//!
//! The client's first frame is a [`Hello`]. Its leading fields ([`HelloPrefix`]) never change
//! layout, so a daemon can read the version of any client, even one from a later major version
//! whose role payload it cannot decode, and refuse it with a reason a person can act on.
//! Versions are major.minor: a daemon accepts every minor of its own major up to its own.

use serde::{Deserialize, Serialize};

/// First bytes of every hello, so that a stray program talking to the socket is told apart from
/// an ozm client with a broken frame.
pub const MAGIC: [u8; 4] = *b"OZM\x01";

/// Major version of this protocol; a different major cannot be spoken at all.
pub const PROTOCOL_MAJOR: u16 = 1;

/// Minor version of this protocol; minors only append message variants.
pub const PROTOCOL_MINOR: u16 = 5;

/// The fixed-layout start of every [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HelloPrefix {
    /// Always [`MAGIC`].
    pub magic: [u8; 4],
    /// The client's protocol major version.
    pub major: u16,
    /// The client's protocol minor version.
    pub minor: u16,
    /// The client's build version, for messages and `ozm status`.
    pub build: String,
}

/// The client's opening frame: its version and who it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hello {
    /// Always [`MAGIC`].
    pub magic: [u8; 4],
    /// The client's protocol major version.
    pub major: u16,
    /// The client's protocol minor version.
    pub minor: u16,
    /// The client's build version, for messages and `ozm status`.
    pub build: String,
    /// What the client is and, for a shim, what it asks for.
    pub peer: Peer,
}

/// The kind of client on a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Peer {
    /// `ozm status` and the other operator commands.
    Cli,
    /// `ozm mcp DIR…`, relaying an AI client's MCP session.
    Shim(ShimRegistration),
}

/// What a shim tells the daemon about itself when it connects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShimRegistration {
    /// The directories the shim was launched with, absolute and canonical.
    pub directories: Vec<String>,
    /// The `OPENZIM_MCP_*` variables of the shim's environment, as given.
    pub settings: Vec<(String, String)>,
}

/// The daemon's answer to a [`Hello`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HelloReply {
    /// The connection is accepted.
    Welcome {
        /// The daemon's protocol major version.
        major: u16,
        /// The daemon's protocol minor version.
        minor: u16,
        /// The daemon's build version.
        build: String,
        /// The daemon's process id.
        daemon_pid: u32,
        /// The id this connection is known by in the daemon (for example `shim-4242-1`).
        instance_id: String,
    },
    /// The connection is refused; the daemon closes it after this frame.
    Refused {
        /// What went wrong and what to do about it.
        reason: String,
    },
}

impl Hello {
    /// A hello for this build of the protocol.
    pub fn new(build: &str, peer: Peer) -> Self {
        Hello {
            magic: MAGIC,
            major: PROTOCOL_MAJOR,
            minor: PROTOCOL_MINOR,
            build: build.to_owned(),
            peer,
        }
    }
}

/// Decides whether a daemon speaking this crate's version accepts a client's prefix.
///
/// Returns the refusal reason when it does not.
pub fn check_version(client: &HelloPrefix) -> Result<(), String> {
    if client.magic != MAGIC {
        return Err("this socket belongs to ozmd; the peer is not an ozm client".to_owned());
    }
    if client.major != PROTOCOL_MAJOR {
        return Err(format!(
            "ozm {} speaks protocol {}.{}, this daemon speaks {}.{}: \
             run the same version of ozm and ozmd (restart ozmd after an upgrade)",
            client.build, client.major, client.minor, PROTOCOL_MAJOR, PROTOCOL_MINOR
        ));
    }
    if client.minor > PROTOCOL_MINOR {
        return Err(format!(
            "protocol {}.{} of ozm {} is newer than this daemon's {}.{}: restart ozmd",
            client.major, client.minor, client.build, PROTOCOL_MAJOR, PROTOCOL_MINOR
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(major: u16, minor: u16) -> HelloPrefix {
        HelloPrefix {
            magic: MAGIC,
            major,
            minor,
            build: "0.0.0".into(),
        }
    }

    #[test]
    fn same_major_older_or_equal_minor_is_accepted() {
        assert!(check_version(&prefix(PROTOCOL_MAJOR, PROTOCOL_MINOR)).is_ok());
    }

    #[test]
    fn other_major_and_newer_minor_are_refused_with_advice() {
        let reason = check_version(&prefix(PROTOCOL_MAJOR + 1, 0)).unwrap_err();
        assert!(reason.contains("restart ozmd"), "{reason}");
        let reason = check_version(&prefix(PROTOCOL_MAJOR, PROTOCOL_MINOR + 1)).unwrap_err();
        assert!(reason.contains("newer than this daemon"), "{reason}");
    }

    #[test]
    fn prefix_decodes_from_any_full_hello() {
        let hello = Hello::new("1.2.3", Peer::Cli);
        let bytes = postcard::to_stdvec(&hello).unwrap();
        let prefix: HelloPrefix = postcard::from_bytes(&bytes).unwrap();
        assert_eq!(
            prefix,
            HelloPrefix {
                magic: MAGIC,
                major: 1,
                minor: PROTOCOL_MINOR,
                build: "1.2.3".into()
            }
        );
    }

    /// Golden bytes: an accidental change of the hello's wire layout fails here.
    #[test]
    fn hello_wire_layout_is_stable() {
        let hello = Hello::new(
            "0.1.0",
            Peer::Shim(ShimRegistration {
                directories: vec!["/z".into()],
                settings: vec![("A".into(), "1".into())],
            }),
        );
        let bytes = postcard::to_stdvec(&hello).unwrap();
        assert_eq!(
            bytes,
            [
                b'O', b'Z', b'M', 1, 1, 5, 5, b'0', b'.', b'1', b'.', b'0', 1, 1, 2, b'/', b'z', 1,
                1, b'A', 1, b'1'
            ]
        );
    }
}
