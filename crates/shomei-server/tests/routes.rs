//! The OpenAPI document describes exactly the routes the router serves, and every
//! documented route answers (never the 404 of an unknown path).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use shomei_server::{app, document, served_paths, AppState, Metrics};
use shomei_service::{MasterKey, Service, Store};
use std::collections::BTreeSet;
use std::sync::Arc;
use tower::ServiceExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_describes_every_route_and_every_route_answers() {
    let doc = document();
    let documented: BTreeSet<String> = doc.paths.paths.keys().cloned().collect();
    let served: BTreeSet<String> = served_paths().into_iter().collect();
    assert_eq!(documented, served, "documented vs served");
    assert!(documented.len() >= 20);

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open_data_dir(dir.path()).await.unwrap();
    let service = Service::open(store, MasterKey::generate().unwrap())
        .await
        .unwrap();
    let router = app(AppState {
        service: Arc::new(service),
        tsa: None,
        name: "test".into(),
        metrics: Arc::new(Metrics::new().unwrap()),
        trust_anchors: Arc::new(Vec::new()),
        revocation: Default::default(),
        documents: None,
        secure_cookies: false,
        passkeys: None,
    });
    for (path, item) in &doc.paths.paths {
        let method = if item.get.is_some() { "GET" } else { "POST" };
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", "application/json")
            .body(Body::from("{}"))
            .unwrap();
        let response = router.clone().oneshot(request).await.unwrap();
        assert_ne!(response.status(), StatusCode::NOT_FOUND, "{method} {path}");
        assert_ne!(
            response.status(),
            StatusCode::METHOD_NOT_ALLOWED,
            "{method} {path}"
        );
    }
    // An unknown path is the CSC error JSON with 404.
    let response = router
        .oneshot(Request::builder().uri("/nope").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    // The document is OpenAPI 3.1 and served as JSON.
    let json = serde_json::to_value(&doc).unwrap();
    assert!(
        json["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        json["openapi"]
    );
}
