//! Who may do what: the roles a token carries, and the session the console asks the server about.

use serde::{Deserialize, Serialize};

/// What a token (and a session signed in with it) may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// Everything: reads, uploads, removals.
    Admin,
    /// Reads everything.
    Viewer,
    /// Reads what the kiosk's panels show, always in privacy form.
    Kiosk,
    /// Uploads batches and removes devices; cannot sign in to the console.
    Uploader,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Admin, Role::Viewer, Role::Kiosk, Role::Uploader];

    pub fn key(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Viewer => "viewer",
            Role::Kiosk => "kiosk",
            Role::Uploader => "uploader",
        }
    }

    pub fn from_key(key: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.key() == key)
    }

    /// Reads the API (a kiosk only the routes its panels use).
    pub fn reads(self) -> bool {
        self != Role::Uploader
    }

    /// Uploads and removes.
    pub fn writes(self) -> bool {
        matches!(self, Role::Admin | Role::Uploader)
    }

    /// Every answer it gets is in privacy form, whatever the request asks.
    pub fn always_private(self) -> bool {
        self == Role::Kiosk
    }

    /// How long a session signed in with this role lasts without being used; each use past half of
    /// it renews it. A kiosk's runs for days without anyone signing in again.
    pub fn session_seconds(self) -> i64 {
        match self {
            Role::Kiosk => 30 * 24 * 3600,
            _ => 12 * 3600,
        }
    }
}

crate::wire! {
    /// `GET /api/v1/session`: who the console is talking as.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct Session {
        /// The role's key (`admin`, `viewer`, `kiosk`); `viewer` for an anonymous visitor of an open
        /// server.
        pub role: String,
        /// False for an anonymous visitor of an open server (nobody signed in).
        pub signed_in: bool,
        /// The server answers everyone without signing in (loopback, or `--allow-anonymous`).
        pub open: bool,
        /// Every answer is in privacy form whatever the request asks (the kiosk role).
        pub always_private: bool,
        /// When the session ends unless it is used (RFC 3339); none for an anonymous visitor.
        pub expires: Option<String>,
    }
}

crate::wire! {
    /// `POST /api/v1/session`: a token to sign in with.
    #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
    pub struct SignIn {
        pub token: String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip_and_rights_follow_the_roles() {
        for r in Role::ALL {
            assert_eq!(Role::from_key(r.key()), Some(r));
        }
        assert_eq!(Role::from_key("root"), None);
        assert!(Role::Admin.reads() && Role::Admin.writes());
        assert!(Role::Viewer.reads() && !Role::Viewer.writes());
        assert!(Role::Kiosk.reads() && !Role::Kiosk.writes() && Role::Kiosk.always_private());
        assert!(!Role::Uploader.reads() && Role::Uploader.writes());
        assert!(Role::Kiosk.session_seconds() > Role::Viewer.session_seconds());
    }
}
