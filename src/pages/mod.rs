//! One page per file.

pub mod applications;
pub mod collection;
pub mod connector;
pub mod data_privacy;
pub mod device;
pub mod devices;
pub mod endpoint_security;
pub mod kiosk;
pub mod not_found;
pub mod overview;
pub mod threat;
pub mod threats;
