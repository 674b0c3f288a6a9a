//! Progress bars that appear on a terminal and stay silent in pipes, scripts and `--json` runs.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte progress bar on stderr, hidden when stderr is not a terminal or JSON output is asked for.
pub fn bar(json: bool) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(0);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}") {
        bar.set_style(style);
    }
    bar
}

/// A spinner with a message on stderr for steps whose length is unknown (building, signing), hidden like [`bar`].
pub fn spinner(json: bool, message: &str) -> ProgressBar {
    if json || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
    }
    let s = ProgressBar::new_spinner();
    s.set_message(message.to_owned());
    s.enable_steady_tick(std::time::Duration::from_millis(100));
    s
}
