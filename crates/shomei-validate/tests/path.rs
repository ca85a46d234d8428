//! Certificate paths with name constraints: certificates made here with rcgen (a root,
//! an intermediate CA permitting one e-mail domain and excluding another, leaves inside
//! and outside). (rcgen 0.13 encodes a directory-name subtree without its explicit
//! tag, which a conforming reader refuses: that case is refused here too, and
//! directory subtrees are tested in the module.)

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    missing_docs
)]

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, KeyPair, NameConstraints, SanType,
};
use shomei_core::chain::ChainCert;
use shomei_validate::path::{build, may_sign, PathFailure};

fn dn(o: &str, cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "JP");
    d.push(DnType::OrganizationName, o);
    d.push(DnType::CommonName, cn);
    d
}

struct Ca {
    params: CertificateParams,
    key: KeyPair,
    cert: ChainCert,
}

fn ca(name: DistinguishedName, constraints: Option<NameConstraints>, issuer: Option<&Ca>) -> Ca {
    let mut params = CertificateParams::default();
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.name_constraints = constraints;
    let key = KeyPair::generate().unwrap();
    let cert = match issuer {
        None => params.clone().self_signed(&key).unwrap(),
        Some(i) => {
            let issuer_cert = i.params.clone().self_signed(&i.key).unwrap();
            params
                .clone()
                .signed_by(&key, &issuer_cert, &i.key)
                .unwrap()
        }
    };
    Ca {
        cert: ChainCert::from_der(cert.der()).unwrap(),
        params,
        key,
    }
}

fn leaf(name: DistinguishedName, email: Option<&str>, issuer: &Ca) -> ChainCert {
    let mut params = CertificateParams::default();
    params.distinguished_name = name;
    if let Some(e) = email {
        params.subject_alt_names = vec![SanType::Rfc822Name(e.try_into().unwrap())];
    }
    let key = KeyPair::generate().unwrap();
    let issuer_cert = issuer.params.clone().self_signed(&issuer.key).unwrap();
    let cert = params.signed_by(&key, &issuer_cert, &issuer.key).unwrap();
    ChainCert::from_der(cert.der()).unwrap()
}

#[test]
fn name_constraints_of_an_intermediate_bind_the_leaf() {
    let root = ca(dn("Root Org", "Root"), None, None);
    let constraints = NameConstraints {
        permitted_subtrees: vec![GeneralSubtree::Rfc822Name("good.example".into())],
        excluded_subtrees: vec![GeneralSubtree::Rfc822Name("evil.example".into())],
    };
    let mut ca_name = dn("Good Org", "Constrained CA");
    ca_name.remove(DnType::CommonName);
    ca_name.push(DnType::CommonName, "Constrained CA");
    let inter = ca(ca_name, Some(constraints), Some(&root));
    let anchors = vec![root.cert.clone()];
    let pool = vec![inter.cert.clone()];

    let inside = leaf(dn("Good Org", "Alice"), Some("alice@good.example"), &inter);
    let path = build(&inside, &anchors, &pool).unwrap();
    assert_eq!(path.len(), 3);

    let outside = leaf(
        dn("Good Org", "Mallory"),
        Some("mallory@other.example"),
        &inter,
    );
    match build(&outside, &anchors, &pool) {
        Err(PathFailure::Constraints(why)) => assert!(why.contains("permits"), "{why}"),
        other => panic!("an e-mail address outside the permitted subtree: {other:?}"),
    }

    // A directory subtree as rcgen 0.13 writes it (implicitly tagged, not DER a
    // reader accepts): the constraint cannot be read, so the path is refused.
    let mut base = DistinguishedName::new();
    base.push(DnType::OrganizationName, "Good Org");
    let unreadable = ca(
        dn("Good Org", "Unreadable CA"),
        Some(NameConstraints {
            permitted_subtrees: vec![GeneralSubtree::DirectoryName(base)],
            excluded_subtrees: vec![],
        }),
        Some(&root),
    );
    let under = leaf(dn("Good Org", "Bob"), None, &unreadable);
    match build(&under, &anchors, std::slice::from_ref(&unreadable.cert)) {
        Err(PathFailure::Constraints(why)) => assert!(why.contains("cannot be read"), "{why}"),
        other => panic!("unreadable name constraints: {other:?}"),
    }

    let excluded = leaf(dn("Good Org", "Eve"), Some("eve@evil.example"), &inter);
    match build(&excluded, &anchors, &pool) {
        Err(PathFailure::Constraints(why)) => assert!(why.contains("excludes"), "{why}"),
        other => panic!("an excluded e-mail address: {other:?}"),
    }
}

#[test]
fn a_certificate_only_for_tls_servers_may_not_sign_documents() {
    let root = ca(dn("Root Org", "Root"), None, None);
    let make = |purposes: Vec<ExtendedKeyUsagePurpose>| {
        let mut params = CertificateParams::default();
        params.distinguished_name = dn("Org", "Leaf");
        params.extended_key_usages = purposes;
        let key = KeyPair::generate().unwrap();
        let issuer = root.params.clone().self_signed(&root.key).unwrap();
        let cert = params.signed_by(&key, &issuer, &root.key).unwrap();
        ChainCert::from_der(cert.der()).unwrap()
    };
    assert!(matches!(
        may_sign(&make(vec![ExtendedKeyUsagePurpose::ServerAuth])),
        Err(PathFailure::Constraints(_))
    ));
    assert!(may_sign(&make(vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::EmailProtection
    ]))
    .is_ok());
    assert!(may_sign(&make(vec![ExtendedKeyUsagePurpose::ClientAuth])).is_ok());
    assert!(may_sign(&make(vec![])).is_ok());
}
