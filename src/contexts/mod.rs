//! App-wide state, provided once by `App` and read with `expect_context` (or the helpers here).

pub mod live;
pub mod page;
pub mod settings;
pub mod summary;
pub mod theme;
