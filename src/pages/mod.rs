//! One page per file.

pub mod applications;
pub mod coming;
pub mod device;
pub mod devices;
pub mod not_found;
pub mod overview;
