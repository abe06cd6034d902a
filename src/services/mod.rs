//! Dependencies as containers on the user's engine, through the Docker
//! Engine API (bollard).

pub mod engine;
pub mod images;
