//! `/api/v1/documents` over HTTP (the router in process): upload PDF and XML files,
//! approve them with PIN + TOTP, download the signed files, which the library's
//! validator passes at B-T. And the refusals: another user's document (404), a hash
//! list that does not match what the upload showed, a file changed on disk between
//! upload and approval, a wrong OTP (each refused, audited, and nothing signed), an
//! oversize upload (413 with a JSON body, no file left behind), an encrypted PDF, a file
//! that is neither PDF nor XML. Two service nodes over one database and one documents
//! directory: uploaded on one, approved and downloaded on the other.
//!
//! SQLite in a temporary directory, and PostgreSQL when `SHOMEI_TEST_DATABASE_URL`
//! names a server (ignored unless asked for; `.ci/run` runs it).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::as_conversions,
    missing_docs
)]

mod common;

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use axum::Router;
use common::*;
use serde_json::{json, Value};
use shomei_server::{app, AppState, Metrics};
use shomei_service::documents::{DocumentDesk, DocumentLimits, SigningServices};
use shomei_service::{MasterKey, Role, Service, Store};
use std::path::Path;
use std::sync::Arc;
use tower::ServiceExt;

const PASSWORD: &str = "correct horse battery";
const BOUNDARY: &str = "shomei-test-boundary-7d1e";

fn desk(dir: &Path) -> Arc<DocumentDesk> {
    let mut limits = DocumentLimits::default();
    limits.max_pdf_bytes = 256 << 10;
    limits.max_xml_bytes = 64 << 10;
    Arc::new(
        DocumentDesk::new(
            dir.to_path_buf(),
            limits,
            SigningServices {
                tsa: Some(Arc::new(shomei_test_support::tsa::InProcessTsa::at(
                    std::time::SystemTime::now(),
                ))),
                revocation: Arc::new(
                    shomei_test_support::ocsp_responder::InProcessRevocation::new(),
                ),
                clock: Arc::new(shomei_core::SystemClock),
                stamp_font: None,
            },
        )
        .unwrap(),
    )
}

fn router(service: Arc<Service>, desk: Arc<DocumentDesk>) -> Router {
    app(AppState {
        service,
        tsa: None,
        name: "documents".into(),
        metrics: Arc::new(Metrics::new().unwrap()),
        trust_anchors: Arc::new(Vec::new()),
        revocation: Default::default(),
        documents: Some(desk),
        secure_cookies: false,
        passkeys: None,
    })
}

/// A multipart body: `(part name, file name, bytes)`.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, file, bytes) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        match file {
            Some(f) => body.extend_from_slice(
                format!(
                    "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\n\
                     Content-Type: application/octet-stream\r\n\r\n"
                )
                .as_bytes(),
            ),
            None => body.extend_from_slice(
                format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
            ),
        }
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn send(router: &Router, request: Request<Body>) -> (StatusCode, Vec<u8>) {
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .unwrap();
    (status, bytes.to_vec())
}

async fn json_call(
    router: &Router,
    method: &str,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut request = Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {token}"));
    let body = match body {
        Some(v) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        None => Body::empty(),
    };
    let (status, bytes) = send(router, request.body(body).unwrap()).await;
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, value)
}

async fn upload(
    router: &Router,
    token: &str,
    options: &Value,
    files: &[(&str, &[u8])],
) -> (StatusCode, Value) {
    let options = options.to_string();
    let mut parts: Vec<(&str, Option<&str>, &[u8])> = vec![("options", None, options.as_bytes())];
    for (name, bytes) in files {
        parts.push(("file", Some(name), bytes));
    }
    let request = Request::builder()
        .method("POST")
        .uri("/api/v1/documents")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(multipart(&parts)))
        .unwrap();
    let (status, bytes) = send(router, request).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

async fn login(router: &Router, user: &str) -> String {
    use base64ct::{Base64, Encoding};
    let basic = Base64::encode_string(format!("{user}:{PASSWORD}").as_bytes());
    let request = Request::builder()
        .method("POST")
        .uri("/csc/v2/auth/login")
        .header(header::AUTHORIZATION, format!("Basic {basic}"))
        .body(Body::from("{}"))
        .unwrap();
    let (status, bytes) = send(router, request).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    v["access_token"].as_str().unwrap().to_string()
}

fn approval(credential: &str, otp: &str, docs: &[&Value]) -> Value {
    json!({
        "credential_id": credential,
        "pin": PIN,
        "otp": otp,
        "documents": docs.iter().map(|d| json!({
            "id": d["id"], "sha256": d["sha256"], "hash": d["hash"],
        })).collect::<Vec<_>>(),
    })
}

/// Audit records of `kind`.
async fn audited(pool: &sqlx::AnyPool, kind: &str) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM audit WHERE kind = $1")
        .bind(kind)
        .fetch_one(pool)
        .await
        .unwrap()
        .try_get::<i64, _>("n")
        .unwrap()
}

async fn refusals(pool: &sqlx::AnyPool, reason: &str) -> usize {
    use sqlx::Row;
    sqlx::query("SELECT detail FROM audit WHERE kind = 'refusal'")
        .fetch_all(pool)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.try_get::<String, _>("detail").unwrap().contains(reason))
        .count()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes))
}

fn validate(signed: &[u8]) -> shomei_validate::Report {
    let root = shomei_core::chain::parse_certificates(
        &std::fs::read(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/pki/root.cert.pem"),
        )
        .unwrap(),
    )
    .unwrap();
    let mut options = shomei_validate::Options::new(root);
    // The test certificates name no OCSP responder: their status is not checked.
    options.revocation_soft_fail = true;
    shomei_validate::validate_offline(signed, &options, &shomei_xades::ltv::GivenData::new())
        .unwrap()
}

async fn documents_over_http(store: Store, dir: &Path) {
    let master = MasterKey::generate().unwrap();
    let master_text = master.to_base64().to_string();
    let service = Arc::new(Service::open(store.clone(), master).await.unwrap());
    for name in ["alice", "bob"] {
        service
            .create_user("root", name, PASSWORD, Role::Signer)
            .await
            .unwrap();
    }
    let enrolled = service
        .enroll_totp("root", "alice", "shomei")
        .await
        .unwrap();
    let mut otp = Authenticator::new(&enrolled.secret_base32);
    let alice_x = credential(&service, dir, "alice", "alice-x").await;
    let bob_b = credential(&service, dir, "bob", "bob-b").await;
    let docs_dir = dir.join("documents");
    let desk = desk(&docs_dir);
    // Node 1 and node 2: two services over one database and one documents directory.
    let node1 = router(service.clone(), desk.clone());
    let node2_service = Service::open(store.clone(), MasterKey::from_base64(&master_text).unwrap())
        .await
        .unwrap();
    let node2 = router(Arc::new(node2_service), desk.clone());
    let pool = store.pool().clone();
    let alice = login(&node1, "alice").await;
    let bob = login(&node1, "bob").await;

    let pdf1 = shomei_test_support::sample_pdf::one_page("contract one");
    let pdf2 = shomei_test_support::sample_pdf::one_page("contract two");
    let xml = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<invoice><total>42</total></invoice>\n";
    let options = json!({ "credential_id": alice_x, "level": "B-T" });
    let (status, body) = upload(
        &node1,
        &alice,
        &options,
        &[("one.pdf", &pdf1), ("two.pdf", &pdf2), ("invoice.xml", xml)],
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let docs = body["documents"].as_array().unwrap().clone();
    assert_eq!(docs.len(), 3);
    for (doc, (name, bytes, pages, format)) in docs.iter().zip([
        ("one.pdf", pdf1.as_slice(), 1, "pdf"),
        ("two.pdf", pdf2.as_slice(), 1, "pdf"),
        ("invoice.xml", xml.as_slice(), 0, "xml"),
    ]) {
        assert_eq!(doc["name"], name);
        assert_eq!(doc["format"], format);
        assert_eq!(doc["size"], bytes.len());
        assert_eq!(doc["sha256"], sha256_hex(bytes));
        assert_eq!(doc["pages"], pages);
        assert_eq!(doc["state"], "prepared");
        assert_eq!(doc["hash"].as_str().unwrap().len(), 64);
    }
    let (one, two, inv) = (&docs[0], &docs[1], &docs[2]);
    assert_eq!(audited(&pool, "document.upload").await, 3);

    // Bob sees none of Alice's documents: 404 for reading, approving, downloading.
    for path in [
        format!("/api/v1/documents/{}", one["id"].as_str().unwrap()),
        format!("/api/v1/documents/{}/signed", one["id"].as_str().unwrap()),
    ] {
        let (status, body) = json_call(&node1, "GET", &path, &bob, None).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {body}");
        assert_eq!(body["error"], "invalid_request");
    }
    let (status, list) = json_call(&node1, "GET", "/api/v1/documents", &bob, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["documents"].as_array().unwrap().len(), 0);
    let (status, _) = json_call(
        &node1,
        "POST",
        "/api/v1/documents/approve",
        &bob,
        Some(approval(&bob_b, "000000", &[one])),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // The hash list swapped: refused before the PIN or OTP is looked at (so a wrong
    // code shows it was never checked); no SAD.
    let mut swapped = approval(&alice_x, &otp.wrong(), &[one, two]);
    let h0 = swapped["documents"][0]["hash"].clone();
    swapped["documents"][0]["hash"] = swapped["documents"][1]["hash"].clone();
    swapped["documents"][1]["hash"] = h0;
    let (status, body) = json_call(
        &node1,
        "POST",
        "/api/v1/documents/approve",
        &alice,
        Some(swapped),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(refusals(&pool, "approval_mismatch").await, 1);
    // A file hash that is not the file's.
    let mut other_file = approval(&alice_x, &otp.wrong(), &[one]);
    other_file["documents"][0]["sha256"] = json!(sha256_hex(b"another file"));
    let (status, _) = json_call(
        &node1,
        "POST",
        "/api/v1/documents/approve",
        &alice,
        Some(other_file),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(refusals(&pool, "approval_mismatch").await, 2);

    // A wrong OTP: refused, the documents stay prepared.
    let (status, body) = json_call(
        &node1,
        "POST",
        "/api/v1/documents/approve",
        &alice,
        Some(approval(&alice_x, &otp.wrong(), &[one, two])),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["error_description"].as_str().unwrap().contains("OTP"),
        "{body}"
    );
    assert_eq!(refusals(&pool, "wrong_otp").await, 1);

    // One byte of a prepared file changed on disk: refused, nothing signed.
    let path = docs_dir.join(format!("{}.original", two["id"].as_str().unwrap()));
    let mut changed = std::fs::read(&path).unwrap();
    let at = changed.len() / 2;
    changed[at] ^= 0x20;
    std::fs::write(&path, &changed).unwrap();
    let (status, body) = json_call(
        &node1,
        "POST",
        "/api/v1/documents/approve",
        &alice,
        Some(approval(&alice_x, &otp.wrong(), &[one, two])),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert_eq!(refusals(&pool, "document_changed").await, 1);
    assert_eq!(audited(&pool, "sad.issue").await, 0, "no SAD was granted");
    assert_eq!(audited(&pool, "signature").await, 0, "nothing was signed");
    let (_, two_now) = json_call(
        &node1,
        "GET",
        &format!("/api/v1/documents/{}", two["id"].as_str().unwrap()),
        &alice,
        None,
    )
    .await;
    assert_eq!(two_now["state"], "failed");

    // Approved on node 2 (the documents were uploaded on node 1): one SAD, one signHash.
    let (status, body) = json_call(
        &node2,
        "POST",
        "/api/v1/documents/approve",
        &alice,
        Some(approval(&alice_x, &otp.next_code().await, &[one, inv])),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    for d in body["documents"].as_array().unwrap() {
        assert_eq!(d["state"], "signed", "{d}");
    }
    assert_eq!(audited(&pool, "sad.issue").await, 1);
    assert_eq!(audited(&pool, "signature").await, 1);
    assert_eq!(audited(&pool, "document.signed").await, 2);
    // Approving again: not pending any more.
    let (status, _) = json_call(
        &node1,
        "POST",
        "/api/v1/documents/approve",
        &alice,
        Some(approval(&alice_x, &otp.wrong(), &[one])),
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);

    // Downloaded from node 2: B-T, passed by the validator.
    for (doc, content_type) in [(one, "application/pdf"), (inv, "application/xml")] {
        let request = Request::builder()
            .uri(format!(
                "/api/v1/documents/{}/signed",
                doc["id"].as_str().unwrap()
            ))
            .header(header::AUTHORIZATION, format!("Bearer {alice}"))
            .body(Body::empty())
            .unwrap();
        let response = node2.clone().oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.headers()[header::CONTENT_TYPE], content_type);
        let disposition = response.headers()[header::CONTENT_DISPOSITION]
            .to_str()
            .unwrap()
            .to_string();
        assert!(disposition.contains(".signed."), "{disposition}");
        let signed = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let report = validate(&signed);
        assert_eq!(
            report.indication(),
            shomei_validate::Indication::TotalPassed,
            "{}: {report:?}",
            doc["name"]
        );
        assert_eq!(
            report.signatures[0].level,
            Some(shomei_validate::Level::BT),
            "{}",
            doc["name"]
        );
    }
    // The first download shortened the retention to the grace period.
    let (_, one_now) = json_call(
        &node1,
        "GET",
        &format!("/api/v1/documents/{}", one["id"].as_str().unwrap()),
        &alice,
        None,
    )
    .await;
    let grace_end = (unix_seconds() as i64 + 1) * 1000 + 600_000;
    assert!(
        one_now["expires_at"].as_i64().unwrap() <= grace_end,
        "{one_now} vs {grace_end}"
    );

    // Deleted: the row and both files.
    let id = inv["id"].as_str().unwrap();
    let (status, _) = json_call(
        &node1,
        "DELETE",
        &format!("/api/v1/documents/{id}"),
        &alice,
        None,
    )
    .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!docs_dir.join(format!("{id}.original")).exists());
    assert!(!docs_dir.join(format!("{id}.signed")).exists());

    // Too large: 413 with a JSON body, and no partial file left.
    let big = vec![b'%'; 300 << 10];
    let (status, body) = upload(&node1, &alice, &options, &[("big.pdf", &big)]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["error"], "invalid_request");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("big.pdf"));
    assert_eq!(std::fs::read_dir(docs_dir.join("tmp")).unwrap().count(), 0);

    // An encrypted PDF and a file that is neither PDF nor XML.
    let at = pdf1.windows(10).position(|w| w == b"trailer\n<<").unwrap() + 10;
    let mut encrypted = pdf1[..at].to_vec();
    encrypted.extend_from_slice(b" /Encrypt << /Filter /Standard /V 2 /R 3 >>");
    encrypted.extend_from_slice(&pdf1[at..]);
    let (status, body) = upload(&node1, &alice, &options, &[("locked.pdf", &encrypted)]).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("encrypted"));
    let (status, body) = upload(&node1, &alice, &options, &[("a.zip", b"PK\x03\x04zip")]).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{body}");
    // One bad file withdraws the whole upload.
    let before = list_len(&node1, &alice).await;
    let (status, _) = upload(
        &node1,
        &alice,
        &options,
        &[("ok.pdf", &pdf1), ("a.zip", b"PK\x03\x04zip")],
    )
    .await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(list_len(&node1, &alice).await, before);

    // Retention over: purged with the files.
    sqlx::query("UPDATE documents SET expires_at = 0")
        .execute(&pool)
        .await
        .unwrap();
    let purged = service.purge_documents(&desk).await.unwrap();
    assert_eq!(purged, before);
    assert_eq!(list_len(&node1, &alice).await, 0);
    let left: Vec<_> = std::fs::read_dir(&docs_dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().unwrap().is_file())
        .collect();
    assert!(left.is_empty(), "{left:?}");
    assert!(service.verify_audit().await.unwrap().problem.is_none());
}

async fn list_len(router: &Router, token: &str) -> usize {
    let (_, list) = json_call(router, "GET", "/api/v1/documents", token, None).await;
    list["documents"].as_array().unwrap().len()
}

mod documents_over_http {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite() {
        let dir = tempfile::tempdir().unwrap();
        let store = shomei_service::Store::open_data_dir(&dir.path().join("db"))
            .await
            .unwrap();
        super::documents_over_http(store, dir.path()).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL: SHOMEI_TEST_DATABASE_URL (.ci/run starts a private cluster)"]
    async fn postgres() {
        let dir = tempfile::tempdir().unwrap();
        super::documents_over_http(super::common::fresh_postgres("documents").await, dir.path())
            .await;
    }
}
