//! Every value the mock makes up — session ids, API keys, people, document numbers, scores, OTP
//! codes — comes from one random generator, so that `--seed` repeats them run after run for the
//! same sequence of requests. Without a seed it is seeded from the OS, a CSPRNG (`ChaCha20`).

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use time::{Date, Duration};
use uuid::Uuid;

use super::results::{
    DocIssuer, DocOwner, DocumentRecognitionResult, EdocumentCommon, EdocumentExtra, EdocumentJson, EdocumentResult,
    Face2FaceResult, LivenessResult, TechResult,
};
use crate::domain::Outcome;
use crate::domain::outcome::reasons::{EYES_CLOSED, FACE_NOT_CENTERED, WRONG_HEAD_POSITION};
use crate::domain::{ApiKey, Family, Gender, Iin, Metadata, Phone, TechnologyCode};

pub(crate) struct Generator {
    rng: ChaCha20Rng,
}

/// The person a session's results describe. Taken from the metadata where it says something
/// (IIN, phone), made up otherwise, and the same for every technology of the session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Subject {
    pub first_name: String,
    pub last_name: String,
    pub middle_name: String,
    pub gender: Gender,
    pub iin: Iin,
    pub phone: Phone,
    pub doc_number: String,
    pub doc_issued: Date,
    pub doc_expires: Date,
}

const MALE_NAMES: &[&str] =
    &["АЙДАР", "АСХАТ", "ЕРЛАН", "НУРЛАН", "ДАНИЯР", "АРМАН", "БАУЫРЖАН", "ТИМУР", "САКЕН", "ЕРБОЛ"];
const FEMALE_NAMES: &[&str] =
    &["АЙГЕРИМ", "ДИНАРА", "ЖАНАР", "САУЛЕ", "АСЕЛЬ", "ГУЛЬНАРА", "МАДИНА", "АЛИЯ", "КАМИЛА", "АРУЖАН"];
/// Surnames in their masculine form; the feminine adds "А".
const SURNAMES: &[&str] =
    &["АХМЕТОВ", "ЖУМАБАЕВ", "СЕРИКОВ", "ТОКТАРОВ", "ИСКАКОВ", "КАСЫМОВ", "ОМАРОВ", "САПАРОВ", "НУРГАЛИЕВ", "БЕКОВ"];
/// The issuer of Kazakh identity documents, in the three languages the vendor reports.
const ISSUER_RU: &str = "МИНИСТЕРСТВО ВНУТРЕННИХ ДЕЛ РК";
const ISSUER_EN: &str = "MINISTRY OF INTERNAL AFFAIRS";
const ISSUER_KK: &str = "ҚР ІШКІ ІСТЕР МИНИСТРЛІГІ";

impl Generator {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(seed) => ChaCha20Rng::seed_from_u64(seed),
            None => ChaCha20Rng::from_os_rng(),
        };
        Self { rng }
    }

    /// A generator started from 32 bytes (a key's own, `state::scopes`).
    pub(crate) fn from_seed(seed: [u8; 32]) -> Self {
        Self { rng: ChaCha20Rng::from_seed(seed) }
    }

    /// A seed for a generator of its own: what a session's person is made from when first read.
    pub(crate) fn seed(&mut self) -> u64 {
        self.rng.random()
    }

    pub(crate) fn session_id(&mut self) -> Uuid {
        uuid::Builder::from_random_bytes(self.rng.random()).into_uuid()
    }

    /// A key in the vendor's shape: 48 URL-safe characters.
    pub(crate) fn api_key(&mut self) -> ApiKey {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let key = (0..48).map(|_| char::from(*ALPHABET.choose(&mut self.rng).expect("non-empty"))).collect();
        ApiKey::from_generated(key)
    }

    pub(crate) fn otp(&mut self) -> String {
        format!("{:06}", self.rng.random_range(0..1_000_000))
    }

    pub(crate) fn subject(&mut self, metadata: &Metadata, today: Date) -> Subject {
        let given_iin = metadata
            .edocument
            .as_ref()
            .and_then(|e| e.iin.as_ref())
            .and_then(|p| p.value.clone())
            .or_else(|| metadata.extra.as_ref().and_then(|e| e.iin.clone()));
        let given_phone = metadata.edocument.as_ref().and_then(|e| e.phone.as_ref()).and_then(|p| p.value.clone());
        self.subject_with(given_iin, given_phone, today)
    }

    /// A person with this IIN and phone where given, made up otherwise.
    pub(crate) fn subject_with(&mut self, given_iin: Option<Iin>, given_phone: Option<Phone>, today: Date) -> Subject {
        let iin = given_iin.unwrap_or_else(|| {
            let gender = if self.rng.random_bool(0.5) { Gender::Male } else { Gender::Female };
            // Adults born 1960-2005.
            let first = Date::from_calendar_date(1960, time::Month::January, 1).expect("valid");
            let birth = first + Duration::days(self.rng.random_range(0..46 * 365));
            let start: u16 = self.rng.random_range(0..10_000);
            Iin::generate(birth, gender, (start..10_000).chain(0..start)).expect("a serial with a check digit exists")
        });
        let phone = given_phone.unwrap_or_else(|| {
            let mut digits = *b"77000000000";
            crate::domain::zero_padded(&mut digits[3..], self.rng.random_range(0..100_000_000));
            Phone::parse(std::str::from_utf8(&digits).unwrap_or_default()).expect("77 and 9 digits")
        });
        let gender = iin.gender();
        let first_name = match gender {
            Gender::Male => MALE_NAMES,
            Gender::Female => FEMALE_NAMES,
        }
        .choose(&mut self.rng)
        .expect("non-empty");
        let surname = SURNAMES.choose(&mut self.rng).expect("non-empty");
        let father = MALE_NAMES.choose(&mut self.rng).expect("non-empty");
        let (last_name, middle_name) = match gender {
            Gender::Male => ((*surname).to_owned(), [father, "ОВИЧ"].concat()),
            Gender::Female => ([surname, "А"].concat(), [father, "ОВНА"].concat()),
        };
        let doc_issued = today - Duration::days(self.rng.random_range(30..9 * 365));
        let doc_expires = doc_issued + Duration::days(10 * 365 + 2) - Duration::days(1);
        Subject {
            first_name: (*first_name).to_owned(),
            last_name,
            middle_name,
            gender,
            iin,
            phone,
            doc_number: {
                let mut digits = *b"000000000";
                crate::domain::zero_padded(&mut digits[1..], self.rng.random_range(0..100_000_000));
                digits.iter().map(|b| char::from(*b)).collect()
            },
            doc_issued,
            doc_expires,
        }
    }

    /// A plausible result for `code` ending with `outcome`: high scores for a pass, low for a
    /// failure, and the subject's data for the document technologies.
    pub(crate) fn result(&mut self, code: TechnologyCode, outcome: &Outcome, s: &Subject) -> TechResult {
        let passed = *outcome == Outcome::Passed;
        match code.family() {
            Family::Liveness => {
                let reason = match outcome {
                    Outcome::Passed => None,
                    Outcome::Failed(reason) => Some(reason.clone()),
                };
                // The other fields agree with the reason the liveness check failed for.
                let kind = reason.as_ref().map(|r| r.kind.as_str());
                TechResult::Liveness(LivenessResult {
                    result: passed,
                    eye_closed: kind == Some(EYES_CLOSED),
                    prediction: format!("{:.4}", self.score(passed, 0.95..0.9999, 0.05..0.45)),
                    face_center: kind != Some(FACE_NOT_CENTERED),
                    face_direction: if kind == Some(WRONG_HEAD_POSITION) { "left" } else { "forward" }.to_owned(),
                    failure_reason: reason,
                })
            }
            Family::Face2Face => {
                let p = self.score(passed, 0.85..0.99, 0.10..0.55);
                TechResult::Face2Face(Face2FaceResult {
                    result: passed,
                    prediction: format!("{p:.4}"),
                    prediction_percent: format!("{:.2}", p * 100.0),
                })
            }
            Family::Edocument => TechResult::Edocument(EdocumentResult {
                result: passed,
                phone: s.phone.as_str().to_owned(),
                result_json: EdocumentJson {
                    common: EdocumentCommon {
                        doc_owner: DocOwner {
                            iin: s.iin.as_str().to_owned(),
                            first_name: s.first_name.clone(),
                            last_name: s.last_name.clone(),
                            middle_name: s.middle_name.clone(),
                        },
                        doc_number: s.doc_number.clone(),
                        doc_issuer: DocIssuer {
                            name_ru: ISSUER_RU.to_owned(),
                            name_en: ISSUER_EN.to_owned(),
                            name_kk: ISSUER_KK.to_owned(),
                        },
                    },
                },
                extra: EdocumentExtra {
                    date_of_birth: iso(s.iin.birth_date()),
                    date_of_issue: iso(s.doc_issued),
                    date_of_expire: iso(s.doc_expires),
                },
                gender: match s.gender {
                    Gender::Male => "MALE",
                    Gender::Female => "FEMALE",
                }
                .to_owned(),
                document_pdf: None,
                document_image: None,
            }),
            Family::DocumentRecognition => TechResult::DocumentRecognition(DocumentRecognitionResult {
                result: passed,
                first_name: s.first_name.clone(),
                last_name: s.last_name.clone(),
                patronymic: s.middle_name.clone(),
                personal_number: s.iin.as_str().to_owned(),
                date_of_birth: dotted(s.iin.birth_date()),
                document_number: s.doc_number.clone(),
                authority: ISSUER_RU.to_owned(),
                date_of_issue: dotted(s.doc_issued),
                date_of_expiry: dotted(s.doc_expires),
            }),
        }
    }

    fn score(&mut self, passed: bool, pass: std::ops::Range<f64>, fail: std::ops::Range<f64>) -> f64 {
        self.rng.random_range(if passed { pass } else { fail })
    }
}

/// `01.01.2000`, as the docs' document recognition example writes dates.
/// Makes the E-Document result's missing files (`DOCUMENT_FILES` whose value is `null`) from
/// the result as it stands, the scenario's fields merged in, so that the PDF agrees with
/// `result_json`. `leave` names fields to leave as they are (a scenario's `null`). Answers the
/// fields it made.
pub(crate) fn make_document_files(result: &mut serde_json::Value, leave: impl Fn(&str) -> bool) -> Vec<&'static str> {
    use base64::Engine as _;
    let missing: Vec<&'static str> = super::results::DOCUMENT_FILES
        .into_iter()
        .filter(|key| result.get(*key).is_none_or(serde_json::Value::is_null) && !leave(key))
        .collect();
    let text =
        |pointer: &str| result.pointer(pointer).and_then(serde_json::Value::as_str).unwrap_or_default().to_owned();
    let data = crate::report::document::DocumentData {
        iin: text("/result_json/common/docOwner/iin"),
        last_name: text("/result_json/common/docOwner/lastName"),
        first_name: text("/result_json/common/docOwner/firstName"),
        middle_name: text("/result_json/common/docOwner/middleName"),
        doc_number: text("/result_json/common/docNumber"),
        issuer: text("/result_json/common/docIssuer/nameEn"),
        date_of_birth: text("/extra/date_of_birth"),
        date_of_issue: text("/extra/date_of_issue"),
        date_of_expire: text("/extra/date_of_expire"),
        gender: text("/gender"),
    };
    let engine = base64::engine::general_purpose::STANDARD;
    for key in &missing {
        let file = match *key {
            "document_pdf" => engine.encode(crate::report::document::document_pdf(&data)),
            _ => engine.encode(crate::report::document::DOCUMENT_IMAGE),
        };
        result[*key] = serde_json::Value::String(file);
    }
    missing
}

fn dotted(d: Date) -> String {
    format!("{:02}.{:02}.{}", d.day(), u8::from(d.month()), d.year())
}

/// `2000-01-01` \[mock\].
fn iso(d: Date) -> String {
    format!("{}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// A generated result of `family`: the shape scenario overrides are checked against
/// (`scenario::load::Samples`).
pub(crate) fn sample_result(family: Family) -> serde_json::Value {
    use crate::domain::{Metadata, TechnologyCode};
    let code = TechnologyCode::ALL.into_iter().find(|c| c.family() == family).expect("every family has a code");
    let mut generator = Generator::new(Some(0));
    let subject = generator.subject(&Metadata::default(), time::macros::date!(2026 - 01 - 01));
    serde_json::to_value(generator.result(code, &Outcome::Passed, &subject)).expect("results serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_edocument_result_gets_its_files_and_they_fit_what_a_session_reserves() {
        let mut g = Generator::new(Some(3));
        let s = g.subject(&Metadata::default(), time::macros::date!(2026 - 01 - 01));
        let mut result = serde_json::to_value(g.result(TechnologyCode::Ed, &Outcome::Passed, &s)).unwrap();
        assert!(result["document_pdf"].is_null(), "generated without files: `end` decides");
        let made = make_document_files(&mut result, |key| key == "document_image");
        assert_eq!(made, ["document_pdf"], "a field left by the scenario stays null");
        assert!(result["document_image"].is_null());
        assert_eq!(make_document_files(&mut result, |_| false), ["document_image"], "then only the missing one");
        let held: usize =
            super::super::results::DOCUMENT_FILES.iter().map(|k| result[*k].as_str().unwrap().len()).sum();
        assert!(held <= super::super::results::DOCUMENT_FILES_HELD, "{held} bytes fit the reservation");
        assert!(make_document_files(&mut result, |_| false).is_empty(), "nothing left to make");
    }

    #[test]
    fn the_same_seed_makes_the_same_values() {
        let meta = Metadata::default();
        let today = time::macros::date!(2026 - 01 - 01);
        let run = || {
            let mut g = Generator::new(Some(42));
            (g.session_id(), g.subject(&meta, today), g.otp(), g.api_key())
        };
        assert_eq!(run(), run());
    }

    #[test]
    fn the_subject_takes_the_iin_and_phone_from_the_metadata() {
        let meta = crate::wire::create::parse_metadata(
            json!({"edocument": {"iin": {"value": "880315400010"}, "phone": {"value": "77011234567"}}}),
            None,
        )
        .unwrap();
        let s = Generator::new(None).subject(&meta, time::macros::date!(2026 - 01 - 01));
        assert_eq!(s.iin.as_str(), "880315400010");
        assert_eq!(s.phone.as_str(), "77011234567");
        assert_eq!(s.gender, Gender::Female, "the IIN's century digit 4 is a woman");
        assert!(s.last_name.ends_with('А'), "feminine surname: {}", s.last_name);
    }

    #[test]
    fn scores_are_strings_with_four_decimals_high_for_a_pass() {
        let mut g = Generator::new(Some(7));
        let s = g.subject(&Metadata::default(), time::macros::date!(2026 - 01 - 01));
        let TechResult::Liveness(live) = g.result(TechnologyCode::Ldhp, &Outcome::Passed, &s) else { panic!() };
        assert_eq!(live.prediction.len(), 6, "{}", live.prediction);
        assert!(live.prediction.parse::<f64>().unwrap() >= 0.95);
        let TechResult::Face2Face(f2f) = g.result(TechnologyCode::F2f, &Outcome::Passed, &s) else { panic!() };
        let p: f64 = f2f.prediction.parse().unwrap();
        let pct: f64 = f2f.prediction_percent.parse().unwrap();
        assert!((p * 100.0 - pct).abs() < 0.01, "{p} vs {pct}");
    }
}
