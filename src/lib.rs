#![recursion_limit = "256"]
//! Bazaar: an internal app marketplace kept in Git.
//!
//! Data flows one way: source → catalog → verdict → output. The binary's `cli` is a thin layer
//! over these modules; the daemon calls the same functions. Nothing here prints, exits or reads
//! the environment: a [`context::Context`] carries the clock, engine and limits of a run.

pub mod audit;
pub mod cache;
pub mod catalog;
pub mod check;
pub mod context;
pub mod daemon;
pub mod diagnostics;
pub mod discovery;
pub mod forge;
pub mod git;
pub mod lifecycle;
pub mod manifest;
pub mod merge;
pub mod policy;
pub mod publish;
pub mod review;
pub mod scaffold;
pub mod signals;
pub mod signing;
pub mod similar;
pub mod site;
pub mod source;
