//! `edgeprompt webhooks`: the control plane's webhooks (`/admin/v1/webhooks`): list,
//! add, remove, a test ping, and a webhook's delivery log.

use crate::remote::Remote;
use crate::{out, Failure};
use serde_json::{json, Value};

/// Arguments of `webhooks`.
#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Subcommand)]
enum Command {
    /// Every webhook: id, URL, events, deliveries pending / delivered / failed.
    List {
        #[command(flatten)]
        remote: Remote,
    },
    /// Add a webhook; prints its id and, when generated, its secret (shown once).
    Add {
        #[command(flatten)]
        remote: Remote,
        /// Where deliveries are POSTed (https, or http to localhost).
        url: String,
        /// Event patterns, comma-separated: `*`, `change.*`, `rollout.*`, or names
        /// such as `change.rollback` (default: every event).
        #[arg(long, value_delimiter = ',')]
        events: Vec<String>,
        /// The signing secret (at least 32 characters; default: generated).
        #[arg(long, env = "EDGEPROMPT_WEBHOOK_SECRET", hide_env_values = true)]
        secret: Option<String>,
    },
    /// Remove a webhook and its pending deliveries.
    Remove {
        #[command(flatten)]
        remote: Remote,
        /// The webhook's id.
        id: String,
    },
    /// Queue a `ping` delivery to a webhook.
    Test {
        #[command(flatten)]
        remote: Remote,
        /// The webhook's id.
        id: String,
    },
    /// A webhook's delivery log, newest first.
    Deliveries {
        #[command(flatten)]
        remote: Remote,
        /// The webhook's id.
        id: String,
        /// How many (at most 500).
        #[arg(long, default_value_t = 50)]
        limit: u32,
    },
}

/// `webhooks`.
pub fn run(a: Args) -> Result<(), Failure> {
    match a.command {
        Command::List { remote } => {
            let v = remote.get("webhooks")?;
            if remote.wants_json() {
                return out(&v.to_string());
            }
            let hooks = v["webhooks"].as_array().cloned().unwrap_or_default();
            out(&format!("{} webhook(s)", hooks.len()))?;
            for h in hooks {
                let d = &h["deliveries"];
                out(&format!(
                    "{}  {}  events {}  deliveries: {} pending, {} delivered, {} failed",
                    s(&h["id"]),
                    s(&h["url"]),
                    list(&h["events"]),
                    d["pending"],
                    d["delivered"],
                    d["failed"]
                ))?;
            }
            Ok(())
        }
        Command::Add {
            remote,
            url,
            events,
            secret,
        } => {
            let mut body = json!({ "url": url });
            if !events.is_empty() {
                body["events"] = json!(events);
            }
            if let Some(secret) = secret {
                body["secret"] = json!(secret);
            }
            let v = remote.post_as_is("webhooks", body)?;
            if remote.wants_json() {
                return out(&v.to_string());
            }
            out(&format!("added {} for {}", s(&v["id"]), list(&v["events"])))?;
            if let Some(secret) = v["secret"].as_str() {
                out(&format!("secret (shown once): {secret}"))?;
            }
            Ok(())
        }
        Command::Remove { remote, id } => {
            let v = remote.delete(&format!("webhooks/{id}"))?;
            if remote.wants_json() {
                return out(&v.to_string());
            }
            out(&format!("removed {id}"))
        }
        Command::Test { remote, id } => {
            let v = remote.post_as_is(&format!("webhooks/{id}/test"), json!({}))?;
            if remote.wants_json() {
                return out(&v.to_string());
            }
            out(&format!("queued a ping to {id}"))
        }
        Command::Deliveries { remote, id, limit } => {
            let v = remote.get(&format!("webhooks/{id}/deliveries?limit={limit}"))?;
            if remote.wants_json() {
                return out(&v.to_string());
            }
            for d in v["deliveries"].as_array().into_iter().flatten() {
                let outcome = match (d["last_status"].as_u64(), d["last_error"].as_str()) {
                    (Some(st), _) if d["state"] == "delivered" => format!("answered {st}"),
                    (_, Some(e)) => e.to_string(),
                    _ => String::new(),
                };
                out(&format!(
                    "{}  {}  {}  {} attempt(s)  {}",
                    d["id"],
                    s(&d["event"]),
                    s(&d["state"]),
                    d["attempts"],
                    outcome
                ))?;
            }
            Ok(())
        }
    }
}

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

fn list(v: &Value) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(",")
}
