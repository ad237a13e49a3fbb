//! `edgeprompt console`: prints the web console's sign-in link for an edge and a token,
//! `<url>/console/#token=<token>`. The token travels in the fragment, which browsers
//! never send to a server; the console reads it once and removes it from the address.

use crate::{out, Failure};

/// Where the console is and which admin token signs in.
#[derive(clap::Args)]
pub struct Args {
    /// The edge's URL (default: $EDGEPROMPT_URL).
    #[arg(long, env = "EDGEPROMPT_URL")]
    remote: String,
    /// An admin token (default: $EDGEPROMPT_TOKEN).
    #[arg(long, env = "EDGEPROMPT_TOKEN", hide_env_values = true)]
    token: String,
}

/// Prints the link and exits.
pub fn run(a: Args) -> Result<(), Failure> {
    let base = a.remote.trim().trim_end_matches('/');
    if !(base.starts_with("http://") || base.starts_with("https://")) {
        return Err(Failure::Usage(format!(
            "--remote must be the edge's http:// or https:// URL, not \"{base}\""
        )));
    }
    let token = a.token.trim();
    if token.is_empty() {
        return Err(Failure::Usage("--token is empty".into()));
    }
    out(&format!("{base}/console/#token={}", fragment_escape(token)))
}

/// Percent-encodes everything but RFC 3986's unreserved characters (the console
/// decodes the fragment with `decodeURIComponent`; query values take the same form).
pub fn fragment_escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    #[test]
    fn unreserved_characters_pass_and_others_are_escaped() {
        assert_eq!(super::fragment_escape("aZ09-._~"), "aZ09-._~");
        assert_eq!(super::fragment_escape("a b&c#é"), "a%20b%26c%23%C3%A9");
    }
}
