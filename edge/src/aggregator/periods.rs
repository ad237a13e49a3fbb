//! The period index, one object per (prompt, label): which weights periods have
//! events and how many shards each was aggregated in. The first event of a period
//! fixes its shard count, so raising `EVENT_SHARDS` takes effect at the next period
//! and never splits a unit's state within one.

use edgeprompt_shell::aggregates::PeriodInfo;
use edgeprompt_shell::http::{respond, ApiError};
use worker::{
    console_error, durable_object, DurableObject, Env, Request, Response, Result,
    SqlStorageValue as V, State,
};

/// One prompt label's periods.
#[durable_object]
pub struct PeriodIndex {
    state: State,
    #[allow(dead_code)]
    env: Env,
}

impl DurableObject for PeriodIndex {
    fn new(state: State, env: Env) -> Self {
        if let Err(e) = state.storage().sql().exec(
            "CREATE TABLE IF NOT EXISTS periods (period TEXT PRIMARY KEY, shards INTEGER NOT NULL, first_ms INTEGER NOT NULL) WITHOUT ROWID",
            None,
        ) {
            console_error!("edgeprompt periods: schema: {e}");
        }
        PeriodIndex { state, env }
    }

    async fn fetch(&self, mut req: Request) -> Result<Response> {
        let answer = match req.path().as_str() {
            "/register" => match req.json::<PeriodInfo>().await {
                Ok(p) => self.register(p),
                Err(e) => Err(ApiError::new(400, "malformed_request", e.to_string())),
            },
            "/list" => self.list().map(|l| respond(200, &l)),
            other => Err(ApiError::not_found(other)),
        };
        Ok(answer.unwrap_or_else(ApiError::into_response))
    }
}

impl PeriodIndex {
    fn register(&self, p: PeriodInfo) -> std::result::Result<Response, ApiError> {
        if p.shards == 0 || p.period.is_empty() {
            return Err(ApiError::new(
                400,
                "invalid_period",
                "a period needs a name and at least one shard",
            ));
        }
        self.state
            .storage()
            .sql()
            .exec(
                "INSERT INTO periods (period, shards, first_ms) VALUES (?, ?, ?) ON CONFLICT (period) DO NOTHING",
                vec![
                    V::String(p.period.clone()),
                    V::Integer(i64::from(p.shards)),
                    V::Integer(i64::try_from(p.first_ms).unwrap_or(i64::MAX)),
                ],
            )
            .map_err(|e| ApiError::new(503, "storage_error", e.to_string()))?;
        let recorded = self
            .list()?
            .into_iter()
            .find(|x| x.period == p.period)
            .unwrap_or(p);
        Ok(respond(200, &recorded))
    }

    fn list(&self) -> std::result::Result<Vec<PeriodInfo>, ApiError> {
        let rows = self
            .state
            .storage()
            .sql()
            .exec(
                "SELECT period, shards, first_ms FROM periods ORDER BY first_ms, period",
                None,
            )
            .and_then(super::rows::all)
            .map_err(|e| ApiError::new(503, "storage_error", e.to_string()))?;
        Ok(rows
            .iter()
            .map(|r| PeriodInfo {
                period: super::rows::text(r, 0),
                shards: u32::try_from(super::rows::int(r, 1)).unwrap_or(1).max(1),
                first_ms: super::rows::count(r, 2),
            })
            .collect())
    }
}
