//! Integration tests of escucha-text (one test binary): the streaming contract the CLI relies
//! on, bad input, and accuracy floors on the labelled data (slightly below the figures in
//! bench/text/RESULTS.md, so a regression fails). Floors on ../shared/data/text skip, saying
//! so, when that folder is absent.

mod emotions;
mod floors;
mod fuzz;
mod stream;
