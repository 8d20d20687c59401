//! Integration tests: the real `bazaar` binary on fixture catalogs and real temporary Git
//! repositories.

mod bad_input;
mod browser;
mod browser_lifecycle;
mod charts;
mod check;
mod core;
mod daemon;
mod governance;
mod judged;
mod merge;
mod policy;
mod policy_limits;
mod proptest_governed;
mod proptest_parser;
mod publish;
mod security;
mod serve;
mod signals;
mod signing;
mod similar;
mod site;
mod support;
mod sweep;
