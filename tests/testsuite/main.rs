//! Integration tests: the real `bazaar` binary on fixture catalogs and real temporary Git
//! repositories.

mod bad_input;
mod browser;
mod charts;
mod check;
mod merge;
mod policy;
mod proptest_parser;
mod serve;
mod signals;
mod signing;
mod similar;
mod site;
mod support;
