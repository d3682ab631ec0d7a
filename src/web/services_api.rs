//! The services catalogue as JSON (`/api/services`), for integrations built on the original
//! product: any staff member reads, owners change. Same rules and audit rows as the page.

use crate::app::AppState;
use crate::domain::catalog::ServiceDraft;
use crate::error::{AppError, AppResult};
use crate::store::services::{self, Service};
use crate::web::session::{audited_change, CurrentStaff, Owner};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::net::SocketAddr;

fn view(s: &Service) -> Value {
    json!({
        "id": s.id,
        "name": s.name,
        "price": s.price_cents as f64 / 100.0,
        "price_cents": s.price_cents,
        "duration_minutes": s.duration_minutes,
        "keywords": s.keywords,
        "active": s.active,
    })
}

/// A create or a partial update; prices as dollars (`price`) or cents (`price_cents`).
#[derive(Deserialize, Default)]
pub struct ServiceBody {
    name: Option<String>,
    price: Option<Value>,
    price_cents: Option<i64>,
    #[serde(alias = "duration")]
    duration_minutes: Option<Value>,
    keywords: Option<Value>,
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

impl ServiceBody {
    /// The draft after applying this body over `base` (None for a create).
    fn draft(&self, base: Option<&Service>) -> AppResult<ServiceDraft> {
        let name = self
            .name
            .clone()
            .or_else(|| base.map(|b| b.name.clone()))
            .unwrap_or_default();
        let price = match (&self.price_cents, &self.price) {
            (Some(c), _) if *c >= 0 => format!("{}.{:02}", c / 100, c % 100),
            (Some(c), _) => c.to_string(),
            (None, Some(p)) => text(p),
            (None, None) => base
                .map(|b| format!("{}.{:02}", b.price_cents / 100, b.price_cents % 100))
                .unwrap_or_default(),
        };
        let duration = self
            .duration_minutes
            .as_ref()
            .map(text)
            .or_else(|| base.map(|b| b.duration_minutes.to_string()))
            .unwrap_or_else(|| "30".into());
        let keywords = self
            .keywords
            .as_ref()
            .map(text)
            .or_else(|| base.map(|b| b.keywords.join(",")))
            .unwrap_or_default();
        ServiceDraft::parse(&name, &price, &duration, &keywords).map_err(AppError::Validation)
    }
}

pub async fn list(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
) -> AppResult<Json<Value>> {
    let scope = info.scope;
    let all = state
        .db
        .read(move |c| services::list_all(c, &scope))
        .await?;
    Ok(Json(
        json!({ "services": all.iter().map(view).collect::<Vec<_>>() }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    CurrentStaff(info): CurrentStaff,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let scope = info.scope;
    let s = state.db.read(move |c| services::get(c, &scope, id)).await?;
    Ok(Json(view(&s)))
}

pub async fn create(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Json(body): Json<ServiceBody>,
) -> AppResult<Response> {
    let draft = body.draft(None)?;
    let now = state.clock.now().timestamp();
    let detail = format!("name={} price_cents={}", draft.name, draft.price_cents);
    let s = audited_change(
        &state,
        &info,
        ip,
        "service.created",
        detail,
        move |tx, scope| services::create(tx, scope, &draft, now),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&s))).into_response())
}

pub async fn patch(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
    Json(body): Json<ServiceBody>,
) -> AppResult<Json<Value>> {
    let scope = info.scope;
    let current = state.db.read(move |c| services::get(c, &scope, id)).await?;
    let draft = body.draft(Some(&current))?;
    let detail = format!(
        "service={id} name={} price_cents={}",
        draft.name, draft.price_cents
    );
    let s = audited_change(
        &state,
        &info,
        ip,
        "service.updated",
        detail,
        move |tx, scope| services::update(tx, scope, id, &draft),
    )
    .await?;
    Ok(Json(view(&s)))
}

pub async fn delete(
    State(state): State<AppState>,
    ConnectInfo(ip): ConnectInfo<SocketAddr>,
    Owner(info): Owner,
    Path(id): Path<i64>,
) -> AppResult<Json<Value>> {
    let removed = audited_change(
        &state,
        &info,
        ip,
        "service.removed",
        format!("service={id}"),
        move |tx, scope| services::remove(tx, scope, id),
    )
    .await?;
    Ok(Json(
        json!({ "success": true, "id": id, "result": removed }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_updates_keep_what_is_not_given() {
        let base = Service {
            id: 1,
            name: "Botox".into(),
            duration_minutes: 30,
            price_cents: 40_000,
            keywords: vec!["botox".into()],
            active: true,
        };
        let body = ServiceBody {
            price_cents: Some(45_000),
            ..ServiceBody::default()
        };
        let d = body.draft(Some(&base)).unwrap();
        assert_eq!(
            (d.name.as_str(), d.price_cents, d.duration_minutes),
            ("Botox", 45_000, 30)
        );
        let negative = ServiceBody {
            price_cents: Some(-1),
            ..ServiceBody::default()
        };
        assert!(negative.draft(Some(&base)).is_err());
        let body: ServiceBody = serde_json::from_value(
            json!({"name": "Peel", "price": "120", "duration": 45, "keywords": ["Peels", "peel"]}),
        )
        .unwrap();
        let d = body.draft(None).unwrap();
        assert_eq!(d.keywords, vec!["peels", "peel"]);
        assert_eq!(d.price_cents, 12_000);
    }
}
