#![recursion_limit = "256"]
//! Bazaar: an internal app marketplace kept in Git.
//!
//! Data flows one way: source → catalog → verdict → output. The binary's `cli` is a thin layer
//! over these modules; the daemon calls the same functions.

pub mod audit;
pub mod cache;
pub mod catalog;
pub mod check;
pub mod cli;
pub mod diagnostics;
pub mod discovery;
pub mod git;
pub mod manifest;
pub mod merge;
pub mod policy;
pub mod review;
pub mod scaffold;
pub mod signals;
pub mod signing;
pub mod similar;
pub mod site;
