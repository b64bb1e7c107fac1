//! Every metadata rule of SPEC section 3, table-driven.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{EVERYONE, IIN, IIN_2, INDIVIDUALS, LEGAL, PHONE, photo_base64, read, spawn_app, with_metadata};

/// Sends each `(metadata, expected error body or None for 200)` to the individuals' flow.
async fn check_table(key: &str, cases: Vec<(Value, Option<Value>)>) {
    let app = spawn_app().await;
    for (metadata, expected) in cases {
        let (status, json) = read(app.create(&with_metadata(key, metadata.clone())).await).await;
        match expected {
            None => assert_eq!(status, StatusCode::OK, "metadata {metadata} should be accepted: {json}"),
            Some(expected) => {
                assert_eq!(status, StatusCode::BAD_REQUEST, "metadata {metadata} should be refused: {json}");
                assert_eq!(json, expected, "errors for {metadata}");
            }
        }
    }
}

fn at_metadata(inner: Value) -> Option<Value> {
    Some(json!({"metadata": inner}))
}

#[tokio::test]
async fn photo1_must_be_base64_of_a_real_jpeg_or_png() {
    let gif = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b"GIF89a\x01\x00\x01\x00");
    let photo_error = |message: &str| at_metadata(json!({"face2face": {"photo1": [message]}}));
    check_table(
        EVERYONE,
        vec![
            (json!({"face2face": {"photo1": photo_base64("face.jpg")}}), None),
            (json!({"face2face": {"photo1": photo_base64("face.png")}}), None),
            (json!({"face2face": {}}), None),
            (json!({"face2face": {"photo1": "not base64 at all!"}}), photo_error("photo1 is not valid base64: it contains '!', which is not in the base64 alphabet (A-Z a-z 0-9 + /).")),
            (
                json!({"face2face": {"photo1": gif}}),
                photo_error("photo1 must be a JPEG or PNG image; the decoded bytes start with 47 49 46 38 39 61 01 00 instead."),
            ),
            (
                json!({"face2face": {"photo1": format!("data:image/jpeg;base64,{}", photo_base64("face.jpg"))}}),
                photo_error("photo1 must be plain base64 of the image bytes, without a \"data:...;base64,\" prefix."),
            ),
            (json!({"face2face": {"photo1": ""}}), photo_error("This field may not be blank.")),
            (json!({"face2face": {"photo1": null}}), photo_error("This field may not be null.")),
            (json!({"face2face": {"photo1": 12}}), photo_error("Not a valid string.")),
            (
                json!({"face2face": "photo"}),
                at_metadata(json!({"face2face": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}})),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_line_wrapped_photo_is_accepted() {
    let b64 = photo_base64("face.png");
    let wrapped: Vec<String> = b64.as_bytes().chunks(76).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    check_table(EVERYONE, vec![(json!({"face2face": {"photo1": wrapped.join("\n")}}), None)]).await;
}

#[tokio::test]
async fn photo1_is_accepted_in_flows_where_it_has_no_effect() {
    // Ignored (a lint warning, not an error) where F2F does not follow another step.
    let flows = std::env::temp_dir().join(format!("bkz-flows-{}.json", std::process::id()));
    std::fs::write(
        &flows,
        r#"[{"name": "F2F only", "api_key": "F2F-only-0123456789012345678901234567890123456789", "technologies": ["F2F"]}]"#,
    )
    .unwrap();
    let app =
        crate::helpers::spawn_with(biometric_kz_mock::Config { flows_file: Some(flows.clone()), ..Default::default() })
            .await;
    let body = with_metadata(
        "F2F-only-0123456789012345678901234567890123456789",
        json!({"face2face": {"photo1": photo_base64("face.jpg")}}),
    );
    assert_eq!(app.create(&body).await.status(), StatusCode::OK);
    std::fs::remove_file(flows).ok();
}

#[tokio::test]
async fn edocument_iin_is_checked_for_check_digit_and_birth_date() {
    let iin_error = |message: &str| at_metadata(json!({"edocument": {"iin": {"value": [message]}}}));
    check_table(
        INDIVIDUALS,
        vec![
            (json!({"edocument": {"iin": {"value": IIN}}}), None),
            (json!({"edocument": {"iin": {"value": IIN_2, "changeable": false}}}), None),
            (json!({"edocument": {"iin": {}}}), None),
            (json!({"edocument": {"iin": {"value": "900101300018"}}}), iin_error("IIN check digit is wrong: the last digit should be 7, got 8.")),
            (json!({"edocument": {"iin": {"value": "901301300017"}}}), iin_error("IIN digits 1-6 must be a birth date YYMMDD; 901301 is not a date.")),
            (json!({"edocument": {"iin": {"value": "900230300017"}}}), iin_error("IIN digits 1-6 must be a birth date YYMMDD; 900230 is not a date.")),
            (
                json!({"edocument": {"iin": {"value": "900101700017"}}}),
                iin_error("IIN digit 7 (century and gender) must be 1 to 6, got 7: 1/2 = born in the 1800s, 3/4 = 1900s, 5/6 = 2000s."),
            ),
            (json!({"edocument": {"iin": {"value": "90010130001"}}}), iin_error("IIN must be exactly 12 digits, got \"90010130001\".")),
            (json!({"edocument": {"iin": {"value": "9001013000 7"}}}), iin_error("IIN must be exactly 12 digits, got \"9001013000 7\".")),
            (json!({"edocument": {"iin": {"value": 900_101_300_017_u64}}}), iin_error("Not a valid string.")),
            (json!({"edocument": {"iin": {"value": null}}}), iin_error("This field may not be null.")),
            (
                json!({"edocument": {"iin": IIN}}),
                at_metadata(json!({"edocument": {"iin": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}}})),
            ),
            (
                json!({"edocument": {"iin": {"value": IIN, "changeable": "no"}}}),
                at_metadata(json!({"edocument": {"iin": {"changeable": ["Must be a valid boolean."]}}})),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn edocument_phone_is_77_and_nine_digits() {
    let phone_error = |got: &str| {
        at_metadata(json!({"edocument": {"phone": {"value": [format!(
            "Phone must be 11 digits in the format 77XXXXXXXXX (no +, spaces or dashes), got \"{got}\"."
        )]}}}))
    };
    check_table(
        INDIVIDUALS,
        vec![
            (json!({"edocument": {"phone": {"value": PHONE}}}), None),
            (json!({"edocument": {"phone": {"value": "+77011234567"}}}), phone_error("+77011234567")),
            (json!({"edocument": {"phone": {"value": "87011234567"}}}), phone_error("87011234567")),
            (json!({"edocument": {"phone": {"value": "7701123456"}}}), phone_error("7701123456")),
            (json!({"edocument": {"phone": {"value": "7-701-123-45-67"}}}), phone_error("7-701-123-45-67")),
            (
                json!({"edocument": {"phone": {"value": 77_011_234_567_u64}}}),
                at_metadata(json!({"edocument": {"phone": {"value": ["Not a valid string."]}}})),
            ),
        ],
    )
    .await;
}

/// The four preconditions of `skip_input: true` [doc], each either met or not: 16 cases, of
/// which only the one with all four met is accepted, and each refusal lists exactly the unmet.
#[tokio::test]
async fn skip_input_lists_exactly_the_unmet_preconditions_in_all_16_combinations() {
    const MESSAGES: [&str; 4] = [
        "skip_input is true, so iin.value must be given.",
        "skip_input is true, so iin.changeable must be false.",
        "skip_input is true, so phone.value must be given.",
        "skip_input is true, so phone.changeable must be false.",
    ];
    let mut cases = Vec::new();
    for mask in 0u8..16 {
        let met = |bit: u8| mask & (1 << bit) != 0;
        let mut iin = serde_json::Map::new();
        let mut phone = serde_json::Map::new();
        if met(0) {
            iin.insert("value".into(), json!(IIN));
        }
        // An unmet "changeable: false" alternates between absent and an explicit true.
        iin.insert("changeable".into(), json!(!met(1)));
        if !met(1) && mask % 2 == 0 {
            iin.remove("changeable");
        }
        if met(2) {
            phone.insert("value".into(), json!(PHONE));
        }
        phone.insert("changeable".into(), json!(!met(3)));
        if !met(3) && mask % 3 == 0 {
            phone.remove("changeable");
        }
        let metadata = json!({"edocument": {"iin": iin, "phone": phone, "skip_input": true}});
        let unmet: Vec<&str> = (0..4).filter(|b| !met(*b)).map(|b| MESSAGES[usize::from(b)]).collect();
        let expected = (!unmet.is_empty()).then(|| json!({"metadata": {"edocument": {"skip_input": unmet}}}));
        cases.push((metadata, expected));
    }
    assert_eq!(cases.iter().filter(|(_, e)| e.is_none()).count(), 1, "exactly one combination is valid");
    check_table(INDIVIDUALS, cases).await;
}

#[tokio::test]
async fn skip_input_false_or_absent_needs_nothing_and_defaults_apply() {
    check_table(
        INDIVIDUALS,
        vec![
            (json!({"edocument": {"skip_input": false}}), None),
            (json!({"edocument": {}}), None),
            (json!({"edocument": {"iin": {"value": IIN, "changeable": false}, "phone": {"value": PHONE}}}), None),
            (json!({"edocument": {"iin": {"value": IIN}, "phone": {"value": PHONE}}}), None),
            (
                json!({"edocument": {"skip_input": "true"}}),
                at_metadata(json!({"edocument": {"skip_input": ["Must be a valid boolean."]}})),
            ),
            (
                json!({"edocument": {"skip_input": 1}}),
                at_metadata(json!({"edocument": {"skip_input": ["Must be a valid boolean."]}})),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn a_skip_input_session_records_the_prefill_for_the_page() {
    let app = spawn_app().await;
    let metadata = json!({"edocument": {
        "iin": {"value": IIN, "changeable": false},
        "phone": {"value": PHONE, "changeable": false},
        "skip_input": true
    }});
    let id = app.create_ok(&with_metadata(INDIVIDUALS, metadata.clone())).await;
    let (_, session) = app.get(&format!("/__admin/sessions/{id}")).await;
    assert_eq!(session["metadata"], metadata, "the admin API shows the metadata as sent");
}

#[tokio::test]
async fn interchangeable_tech_names_technologies_of_the_flow() {
    let tech_error = |inner: Value| at_metadata(json!({"general": {"interchangeable_tech": inner}}));
    check_table(
        LEGAL,
        vec![
            (json!({"general": {"interchangeable_tech": ["LDHP", "DR"]}}), None),
            (json!({"general": {"interchangeable_tech": []}}), None),
            (json!({"general": {}}), None),
            (
                json!({"general": {"interchangeable_tech": ["LDHP", "ED"]}}),
                tech_error(json!({"1": ["\"ED\" is not a technology of this flow (LDHP, DR, F2F)."]})),
            ),
            (
                json!({"general": {"interchangeable_tech": ["ldhp", "LD", 3]}}),
                tech_error(json!({
                    "0": ["\"ldhp\" is not a valid choice."],
                    "1": ["\"LD\" is not a valid choice."],
                    "2": ["\"3\" is not a valid choice."]
                })),
            ),
            (
                json!({"general": {"interchangeable_tech": "LDHP,DR"}}),
                tech_error(json!(["Expected a list of items but got type \"str\"."])),
            ),
            (json!({"general": {"interchangeable_tech": null}}), tech_error(json!(["This field may not be null."]))),
        ],
    )
    .await;
}

#[tokio::test]
async fn extra_iin_must_be_a_valid_iin_string() {
    let extra_error = |message: &str| at_metadata(json!({"extra": {"iin": [message]}}));
    check_table(
        EVERYONE,
        vec![
            (json!({"extra": {"iin": IIN}}), None),
            (json!({"extra": {}}), None),
            (
                json!({"extra": {"iin": "123456789012"}}),
                extra_error("IIN digit 7 (century and gender) must be 1 to 6, got 7: 1/2 = born in the 1800s, 3/4 = 1900s, 5/6 = 2000s."),
            ),
            (json!({"extra": {"iin": "991332300017"}}), extra_error("IIN digits 1-6 must be a birth date YYMMDD; 991332 is not a date.")),
            (json!({"extra": {"iin": 900_101_300_017_u64}}), extra_error("Not a valid string.")),
            (json!({"extra": {"iin": ""}}), extra_error("This field may not be blank.")),
        ],
    )
    .await;
}

#[tokio::test]
async fn metadata_of_the_wrong_type_is_refused_at_its_path() {
    check_table(
        EVERYONE,
        vec![
            (json!({}), None),
            (json!(null), Some(json!({"metadata": ["This field may not be null."]}))),
            (
                json!("x"),
                at_metadata(json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]})),
            ),
            (
                json!([1]),
                at_metadata(json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})),
            ),
            (
                json!({"edocument": 5, "extra": []}),
                at_metadata(json!({
                    "edocument": {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]},
                    "extra": {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]}
                })),
            ),
        ],
    )
    .await;
}

#[tokio::test]
async fn unknown_metadata_keys_are_ignored_not_refused() {
    check_table(
        INDIVIDUALS,
        vec![(json!({"face": 1, "edocument": {"iin": {"value": IIN, "colour": "red"}, "extra_field": true}}), None)],
    )
    .await;
}

#[tokio::test]
async fn every_mistake_is_reported_at_once() {
    let app = spawn_app().await;
    let body = json!({"metadata": {
        "edocument": {"iin": {"value": "1"}, "phone": {"value": "2"}},
        "extra": {"iin": "3"}
    }});
    let (status, json) = read(app.create(&body).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(json["api_key"], json!(["This field is required."]), "{json}");
    assert!(json["metadata"]["edocument"]["iin"]["value"].is_array(), "{json}");
    assert!(json["metadata"]["edocument"]["phone"]["value"].is_array(), "{json}");
    assert!(json["metadata"]["extra"]["iin"].is_array(), "{json}");
}

#[tokio::test]
async fn the_docs_metadata_examples_are_accepted_with_real_values() {
    let app = spawn_app().await;
    let examples = [
        // 3.1 Face2Face
        (EVERYONE, json!({"face2face": {"photo1": photo_base64("face.jpg")}})),
        // 3.2 Case 1: skip_input
        (
            INDIVIDUALS,
            json!({"edocument": {"iin": {"value": IIN, "changeable": false}, "phone": {"value": PHONE, "changeable": false}, "skip_input": true}}),
        ),
        // 3.2 Case 2: IIN read-only
        (INDIVIDUALS, json!({"edocument": {"iin": {"value": IIN, "changeable": false}, "phone": {"value": PHONE}}})),
        // 3.2 Case 3: both editable
        (INDIVIDUALS, json!({"edocument": {"iin": {"value": IIN}, "phone": {"value": PHONE}}})),
        // 3.3 Additional metadata
        (EVERYONE, json!({"extra": {"iin": IIN}})),
    ];
    for (key, metadata) in examples {
        app.create_ok(&with_metadata(key, metadata)).await;
    }
}
