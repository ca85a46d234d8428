//! shomei facade.
