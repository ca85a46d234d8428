//! Arbitrary request bodies through the service's real router (`shomei_server::app`,
//! called in process with `tower::ServiceExt::oneshot`) over a SQLite service in a
//! temporary directory: the CSC v2 and v1 methods, `signatures/signDoc`, the document
//! API (the multipart upload and the approvals) and validation.
//!
//! Input: the first byte picks the route, the second how the request is sent (signed
//! in or not, content type); the rest is the body. In the body, `@C` stands for the
//! fuzz user's credential ID, so bodies can name a real credential. The service is
//! built once and reused. Every answer must be a known status; every refusal (4xx,
//! 5xx) must be the CSC error JSON (`{"error": …, "error_description": …}`); a server
//! error (500) is a crash.
#![no_main]

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use libfuzzer_sys::fuzz_target;
use shomei_server::{app, AppState, Metrics};
use shomei_service::documents::{DocumentDesk, DocumentLimits, SigningServices};
use shomei_service::{KeyKind, MasterKey, Role, Service, Store};
use tower::ServiceExt;

const PASSWORD: &str = "fuzzing password 1";
const BOUNDARY: &str = "fuzz-boundary";

/// The routes fuzzed, with their method and whether the body is multipart.
const ROUTES: &[(&str, &str, bool)] = &[
    ("POST", "/csc/v2/info", false),
    ("POST", "/csc/v2/auth/login", false),
    ("POST", "/csc/v2/auth/revoke", false),
    ("POST", "/csc/v2/credentials/list", false),
    ("POST", "/csc/v2/credentials/info", false),
    ("POST", "/csc/v2/credentials/authorize", false),
    ("POST", "/csc/v2/signatures/signHash", false),
    ("POST", "/csc/v2/signatures/timestamp", false),
    ("POST", "/csc/v2/signatures/signDoc", false),
    ("POST", "/csc/v1/info", false),
    ("POST", "/csc/v1/auth/login", false),
    ("POST", "/csc/v1/auth/revoke", false),
    ("POST", "/csc/v1/credentials/list", false),
    ("POST", "/csc/v1/credentials/info", false),
    ("POST", "/csc/v1/credentials/authorize", false),
    ("POST", "/csc/v1/signatures/signHash", false),
    ("POST", "/csc/v1/signatures/timestamp", false),
    ("POST", "/api/v1/documents", true),
    ("POST", "/api/v1/documents/approve", false),
    ("POST", "/api/v1/documents/approve/passkey", false),
    ("POST", "/api/v1/validate", true),
    ("POST", "/api/v1/validate", false),
];

struct Fixture {
    runtime: tokio::runtime::Runtime,
    router: Router,
    token: String,
    credential: String,
    _dir: tempfile::TempDir,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let dir = tempfile::tempdir().expect("a temporary directory");
        let (router, token, credential) = runtime.block_on(async {
            let store = Store::open_data_dir(&dir.path().join("data"))
                .await
                .expect("a store");
            let service = Service::open(store, MasterKey::generate().expect("a master key"))
                .await
                .expect("a service");
            service
                .create_user("root", "fuzz", PASSWORD, Role::Signer)
                .await
                .expect("a user");
            let credential = service
                .create_credential("root", "fuzz", KeyKind::EcP256, 2, 10, "482913")
                .await
                .expect("a credential");
            let mut limits = DocumentLimits::default();
            limits.max_pdf_bytes = 1 << 20;
            limits.max_xml_bytes = 256 << 10;
            let desk = DocumentDesk::new(
                dir.path().join("documents"),
                limits,
                SigningServices {
                    tsa: Some(Arc::new(shomei_test_support::tsa::InProcessTsa::new())),
                    revocation: Arc::new(
                        shomei_test_support::ocsp_responder::InProcessRevocation::new(),
                    ),
                    clock: Arc::new(shomei_core::SystemClock),
                    stamp_font: None,
                },
            )
            .expect("a document desk");
            let router = app(AppState {
                service: Arc::new(service),
                tsa: Some(Arc::new(shomei_test_support::tsa::InProcessTsa::new())),
                name: "fuzz".into(),
                metrics: Arc::new(Metrics::new().expect("metrics")),
                trust_anchors: Arc::new(Vec::new()),
                revocation: Default::default(),
                documents: Some(Arc::new(desk)),
                secure_cookies: false,
                passkeys: None,
            });
            let token = login(&router).await;
            (router, token, credential)
        });
        Fixture {
            runtime,
            router,
            token,
            credential,
            _dir: dir,
        }
    })
}

async fn login(router: &Router) -> String {
    use base64ct::{Base64, Encoding};
    let basic = Base64::encode_string(format!("fuzz:{PASSWORD}").as_bytes());
    let request = Request::builder()
        .method("POST")
        .uri("/csc/v2/auth/login")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::from("{}"))
        .expect("a request");
    let (status, bytes) = send(router, request).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "login: {}",
        String::from_utf8_lossy(&bytes)
    );
    let v: serde_json::Value = serde_json::from_slice(&bytes).expect("login JSON");
    v["access_token"].as_str().expect("a token").to_owned()
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = router
        .clone()
        .oneshot(request)
        .await
        .expect("the router never fails");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("a body");
    (status, bytes.to_vec())
}

/// `body` with every `@C` replaced by `credential`.
fn with_credential(body: &[u8], credential: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(b"@C") {
            out.extend_from_slice(credential.as_bytes());
            i += 2;
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [route, how, body @ ..] = data else {
        return;
    };
    let f = fixture();
    let (method, path, multipart) = ROUTES[usize::from(*route) % ROUTES.len()];
    let body = with_credential(body, &f.credential);
    let mut request = Request::builder().method(method).uri(path);
    // Signed in, except for revocation (a revoked token would end the campaign's
    // signed-in requests) and when the control byte says so.
    if how & 1 == 0 && !path.ends_with("/revoke") {
        request = request.header(header::AUTHORIZATION, format!("Bearer {}", f.token));
    }
    let content_type = if multipart && how & 2 == 0 {
        format!("multipart/form-data; boundary={BOUNDARY}")
    } else if how & 4 == 0 {
        "application/json".to_owned()
    } else {
        "text/plain".to_owned()
    };
    request = request.header(header::CONTENT_TYPE, content_type);
    let request = request.body(Body::from(body)).expect("a request");
    let (status, bytes) = f.runtime.block_on(send(&f.router, request));
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{path}: {}",
        String::from_utf8_lossy(&bytes)
    );
    if status.is_client_error() || status.is_server_error() {
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "{path}: {status} without the error JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        assert!(
            v.get("error").is_some_and(serde_json::Value::is_string)
                && v.get("error_description")
                    .is_some_and(serde_json::Value::is_string),
            "{path}: {status} {v}"
        );
    } else {
        assert!(status.is_success(), "{path}: {status}");
    }
    // Documents accepted are deleted again, so the campaign's disk use stays flat.
    if path == "/api/v1/documents" && status.is_success() {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&bytes) {
            let ids: Vec<String> = v["documents"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d["id"].as_str().map(str::to_owned))
                .collect();
            for id in ids {
                let request = Request::builder()
                    .method("DELETE")
                    .uri(format!("/api/v1/documents/{id}"))
                    .header(header::AUTHORIZATION, format!("Bearer {}", f.token))
                    .body(Body::empty())
                    .expect("a request");
                let _ = f.runtime.block_on(send(&f.router, request));
            }
        }
    }
});
