//! The page's words in the three locales the vendor's page speaks: `ru` (the default), `en`
//! \[doc\] and `kz` \[seen\]. One table per locale, so a missing word is a compile error.

use crate::domain::Locale;

/// The page's words in a locale.
impl Locale {
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::Ru => &RU,
            Self::En => &EN,
            Self::Kz => &KZ,
        }
    }
}

/// Every text the page shows.
pub struct Texts {
    /// The `lang` attribute (`kk` is Kazakh's language tag).
    pub lang: &'static str,
    pub title: &'static str,
    pub mock_banner: &'static str,
    pub step: &'static str,
    pub continue_: &'static str,
    pub mock_controls: &'static str,
    pub scripted: &'static str,
    pub passed: &'static str,
    pub failed: &'static str,
    pub force_pass: &'static str,
    pub force_fail: &'static str,
    pub reason: &'static str,
    pub or_instead: &'static str,
    pub liveness_title: &'static str,
    pub liveness_text: &'static str,
    pub camera: &'static str,
    pub face2face_title: &'static str,
    pub face2face_text: &'static str,
    pub photo: &'static str,
    pub edocument_title: &'static str,
    pub edocument_text: &'static str,
    pub iin: &'static str,
    pub phone: &'static str,
    pub readonly_hint: &'static str,
    pub get_code: &'static str,
    pub otp_title: &'static str,
    pub otp_sent: &'static str,
    pub sms_from: &'static str,
    pub sms_text: &'static str,
    pub otp: &'static str,
    pub otp_wrong: &'static str,
    pub document_title: &'static str,
    pub document_text: &'static str,
    pub document: &'static str,
    pub done_title: &'static str,
    pub done_passed: &'static str,
    pub done_failed: &'static str,
    pub done_close: &'static str,
    pub not_found_title: &'static str,
    pub not_found_text: &'static str,
    pub expired_title: &'static str,
    pub expired_text: &'static str,
    pub evicted_title: &'static str,
    pub evicted_text: &'static str,
    pub completed_title: &'static str,
    pub completed_text: &'static str,
    pub bad_redirect_title: &'static str,
    pub bad_redirect_text: &'static str,
    pub bad_request_title: &'static str,
    pub bad_image: &'static str,
    pub file_missing: &'static str,
}

pub(crate) const RU: Texts = Texts {
    lang: "ru",
    title: "Биометрическая верификация",
    mock_banner: "Тестовая среда biometric-kz-mock: камера, SMS и проверки имитируются.",
    step: "Шаг",
    continue_: "Продолжить",
    mock_controls: "Управление моком",
    scripted: "Сценарий предписывает",
    passed: "пройдено",
    failed: "не пройдено",
    force_pass: "Пройти",
    force_fail: "Не пройти",
    reason: "Причина",
    or_instead: "Или пройдите вместо этого:",
    liveness_title: "Проверка живости",
    liveness_text: "Расположите лицо в центре кадра и медленно поверните голову, следуя подсказкам.",
    camera: "Камера (имитация)",
    face2face_title: "Сравнение лиц",
    face2face_text: "Загрузите фотографию, с которой будет сравнено ваше лицо.",
    photo: "Фотография (JPEG или PNG)",
    edocument_title: "Электронный документ",
    edocument_text: "Введите ИИН и номер телефона, зарегистрированный в базе мобильных граждан.",
    iin: "ИИН",
    phone: "Номер телефона (77XXXXXXXXX)",
    readonly_hint: "Значение передано сервисом и не может быть изменено.",
    get_code: "Получить код",
    otp_title: "Код подтверждения",
    otp_sent: "Код отправлен с номера 1414 на номер",
    sms_from: "SMS от 1414",
    sms_text: "Код для предоставления данных:",
    otp: "Код из SMS",
    otp_wrong: "Неверный код. Осталось попыток:",
    document_title: "Распознавание документа",
    document_text: "Загрузите фотографию удостоверения личности.",
    document: "Изображение документа (JPEG или PNG)",
    done_title: "Верификация завершена",
    done_passed: "Все шаги пройдены.",
    done_failed: "Верификация не пройдена.",
    done_close: "Результат передан сервису. Страницу можно закрыть.",
    not_found_title: "Сессия не найдена",
    not_found_text: "Ссылка недействительна или сессия истекла. Вернитесь в сервис и начните заново.",
    expired_title: "Сессия истекла",
    expired_text: "Время на прохождение верификации вышло. Вернитесь в сервис и начните заново.",
    evicted_title: "Сессия удалена",
    evicted_text: "Тестовый сервер хранит ограниченное число сессий, и эта сессия была удалена, чтобы освободить место для новых. Вернитесь в сервис и начните заново.",
    completed_title: "Сессия уже пройдена",
    completed_text: "Идентификатор сессии одноразовый: пройти верификацию повторно нельзя.",
    bad_redirect_title: "Некорректный адрес возврата",
    bad_redirect_text: "Верификация завершена, но адрес возврата (redirect) не является абсолютным адресом http(s):",
    bad_request_title: "Ошибка",
    bad_image: "Файл должен быть изображением JPEG или PNG.",
    file_missing: "Выберите файл.",
};

pub(crate) const EN: Texts = Texts {
    lang: "en",
    title: "Biometric verification",
    mock_banner: "Test environment biometric-kz-mock: the camera, SMS and checks are simulated.",
    step: "Step",
    continue_: "Continue",
    mock_controls: "Mock controls",
    scripted: "The scenario scripts",
    passed: "passed",
    failed: "failed",
    force_pass: "Pass",
    force_fail: "Fail",
    reason: "Reason",
    or_instead: "Or pass this instead:",
    liveness_title: "Liveness check",
    liveness_text: "Place your face in the center of the frame and slowly turn your head as prompted.",
    camera: "Camera (simulated)",
    face2face_title: "Face comparison",
    face2face_text: "Upload a photo to compare your face with.",
    photo: "Photo (JPEG or PNG)",
    edocument_title: "E-Document",
    edocument_text: "Enter your IIN and the phone number registered in the mobile citizens' database.",
    iin: "IIN",
    phone: "Phone number (77XXXXXXXXX)",
    readonly_hint: "Provided by the service; it cannot be changed.",
    get_code: "Get the code",
    otp_title: "Confirmation code",
    otp_sent: "A code was sent from 1414 to",
    sms_from: "SMS from 1414",
    sms_text: "Your code to share your data:",
    otp: "Code from the SMS",
    otp_wrong: "Wrong code. Attempts left:",
    document_title: "Document recognition",
    document_text: "Upload a photo of your identity document.",
    document: "Document image (JPEG or PNG)",
    done_title: "Verification complete",
    done_passed: "All steps passed.",
    done_failed: "Verification failed.",
    done_close: "The result has been sent to the service. You can close this page.",
    not_found_title: "Session not found",
    not_found_text: "The link is invalid or the session has expired. Go back to the service and start again.",
    expired_title: "Session expired",
    expired_text: "The time to pass the verification is over. Go back to the service and start again.",
    evicted_title: "Session removed",
    evicted_text: "This test server keeps a limited number of sessions, and this one was removed to make room for newer ones. Go back to the service and start again.",
    completed_title: "Session already completed",
    completed_text: "A session id is one-time: the verification cannot be passed again.",
    bad_redirect_title: "Invalid return address",
    bad_redirect_text: "The verification is complete, but the return address (redirect) is not an absolute http(s) URL:",
    bad_request_title: "Error",
    bad_image: "The file must be a JPEG or PNG image.",
    file_missing: "Choose a file.",
};

pub(crate) const KZ: Texts = Texts {
    lang: "kk",
    title: "Биометриялық верификация",
    mock_banner: "biometric-kz-mock сынақ ортасы: камера, SMS және тексерулер имитацияланады.",
    step: "Қадам",
    continue_: "Жалғастыру",
    mock_controls: "Мокты басқару",
    scripted: "Сценарий бойынша",
    passed: "өтті",
    failed: "өтпеді",
    force_pass: "Өту",
    force_fail: "Өтпеу",
    reason: "Себебі",
    or_instead: "Немесе оның орнына мынаны өтіңіз:",
    liveness_title: "Тірілікті тексеру",
    liveness_text: "Бетіңізді кадрдың ортасына орналастырып, нұсқау бойынша басыңызды баяу бұрыңыз.",
    camera: "Камера (имитация)",
    face2face_title: "Беттерді салыстыру",
    face2face_text: "Бетіңіз салыстырылатын фотосуретті жүктеңіз.",
    photo: "Фотосурет (JPEG немесе PNG)",
    edocument_title: "Электрондық құжат",
    edocument_text: "ЖСН мен мобильді азаматтар базасында тіркелген телефон нөмірін енгізіңіз.",
    iin: "ЖСН",
    phone: "Телефон нөмірі (77XXXXXXXXX)",
    readonly_hint: "Мәнді қызмет берді, оны өзгертуге болмайды.",
    get_code: "Кодты алу",
    otp_title: "Растау коды",
    otp_sent: "Код 1414 нөмірінен мына нөмірге жіберілді:",
    sms_from: "1414 нөмірінен SMS",
    sms_text: "Деректерді ұсыну коды:",
    otp: "SMS-тегі код",
    otp_wrong: "Код қате. Қалған әрекеттер:",
    document_title: "Құжатты тану",
    document_text: "Жеке куәлігіңіздің фотосуретін жүктеңіз.",
    document: "Құжат суреті (JPEG немесе PNG)",
    done_title: "Верификация аяқталды",
    done_passed: "Барлық қадамдар өтті.",
    done_failed: "Верификациядан өтпеді.",
    done_close: "Нәтиже қызметке жіберілді. Бетті жабуға болады.",
    not_found_title: "Сессия табылмады",
    not_found_text: "Сілтеме жарамсыз немесе сессияның мерзімі өтті. Қызметке оралып, қайта бастаңыз.",
    expired_title: "Сессияның мерзімі өтті",
    expired_text: "Верификациядан өту уақыты бітті. Қызметке оралып, қайта бастаңыз.",
    evicted_title: "Сессия жойылды",
    evicted_text: "Тестілік сервер сессиялардың шектеулі санын сақтайды, және бұл сессия жаңаларына орын босату үшін жойылды. Қызметке оралып, қайта бастаңыз.",
    completed_title: "Сессия әлдеқашан өтілген",
    completed_text: "Сессия идентификаторы бір реттік: верификациядан қайта өту мүмкін емес.",
    bad_redirect_title: "Қайту мекенжайы қате",
    bad_redirect_text: "Верификация аяқталды, бірақ қайту мекенжайы (redirect) абсолютті http(s) мекенжайы емес:",
    bad_request_title: "Қате",
    bad_image: "Файл JPEG немесе PNG суреті болуы керек.",
    file_missing: "Файлды таңдаңыз.",
};

/// Validation messages, in the page's locale: the API answers the vendor's (English) wording,
/// the page speaks the user's language throughout.
impl Locale {
    pub fn iin_error(self, e: &crate::domain::IinError) -> String {
        use crate::domain::IinError as E;
        match (self, e) {
            (Self::Ru, E::NotTwelveDigits(got)) => format!("ИИН должен состоять ровно из 12 цифр, введено: «{got}»."),
            (Self::En, E::NotTwelveDigits(got)) => format!("The IIN must be exactly 12 digits; you entered {got:?}."),
            (Self::Kz, E::NotTwelveDigits(got)) => format!("ЖСН дәл 12 цифрдан тұруы керек, енгізілгені: «{got}»."),
            (Self::Ru, E::BadCentury(c)) => format!("7-я цифра ИИН (век и пол) должна быть от 1 до 6, а не {c}."),
            (Self::En, E::BadCentury(c)) => {
                format!("The IIN's 7th digit (century and gender) must be 1 to 6, not {c}.")
            }
            (Self::Kz, E::BadCentury(c)) => {
                format!("ЖСН-ның 7-цифры (ғасыр мен жыныс) 1-ден 6-ға дейін болуы керек, {c} емес.")
            }
            (Self::Ru, E::BadBirthDate(d)) => format!("Первые 6 цифр ИИН — дата рождения ГГММДД, а {d} — не дата."),
            (Self::En, E::BadBirthDate(d)) => {
                format!("The IIN's first 6 digits are a birth date YYMMDD, and {d} is not a date.")
            }
            (Self::Kz, E::BadBirthDate(d)) => format!("ЖСН-ның алғашқы 6 цифры — туған күн ЖЖААКК, ал {d} күн емес."),
            (Self::Ru, E::NoCheckDigit) => "ИИН недействителен: для первых 11 цифр нет контрольной цифры.".to_owned(),
            (Self::En, E::NoCheckDigit) => "The IIN is invalid: its first 11 digits have no check digit.".to_owned(),
            (Self::Kz, E::NoCheckDigit) => "ЖСН жарамсыз: алғашқы 11 цифр үшін бақылау цифры жоқ.".to_owned(),
            (Self::Ru, E::CheckDigitMismatch { expected, found }) => {
                format!("Неверная контрольная цифра ИИН: последняя цифра должна быть {expected}, а не {found}.")
            }
            (Self::En, E::CheckDigitMismatch { expected, found }) => {
                format!("The IIN's check digit is wrong: the last digit should be {expected}, not {found}.")
            }
            (Self::Kz, E::CheckDigitMismatch { expected, found }) => {
                format!("ЖСН-ның бақылау цифры қате: соңғы цифр {found} емес, {expected} болуы керек.")
            }
        }
    }

    pub fn phone_error(self, e: &crate::domain::PhoneError) -> String {
        let got = &e.0;
        match self {
            Self::Ru => {
                format!("Номер телефона — 11 цифр в формате 77XXXXXXXXX (без +, пробелов и дефисов), введено: «{got}».")
            }
            Self::En => format!(
                "The phone number is 11 digits in the format 77XXXXXXXXX (no +, spaces or dashes); you entered {got:?}."
            ),
            Self::Kz => format!(
                "Телефон нөмірі — 77XXXXXXXXX форматындағы 11 цифр (+, бос орын, сызықшасыз), енгізілгені: «{got}»."
            ),
        }
    }

    /// A failure reason's detail in this locale, for the reasons the mock knows; `None` for
    /// others (a scenario's own wording is shown as written).
    pub fn reason_detail(self, kind: &str) -> Option<&'static str> {
        use crate::domain::outcome::reasons as r;
        let (ru, en, kz) = match kind {
            r::CALC_RESULT => ("Низкая общая оценка", "Low overall prediction", "Жалпы баға төмен"),
            r::EYES_CLOSED => ("Глаза закрыты", "Eyes are closed", "Көздер жұмылған"),
            r::FACE_NOT_CENTERED => {
                ("Лицо не в центре кадра", "Face is not in the center of the frame", "Бет кадрдың ортасында емес")
            }
            r::WRONG_HEAD_POSITION => (
                "Положение головы не соответствует подсказке",
                "Head position does not match the instruction",
                "Бастың қалпы нұсқауға сәйкес емес",
            ),
            r::FACES_MISMATCH => (
                "Лица на фотографиях не совпадают",
                "The faces on the photos do not match",
                "Фотосуреттердегі беттер сәйкес емес",
            ),
            r::SUBJECT_NOT_FOUND => (
                "Субъект не найден в базе граждан",
                "The subject was not found in the citizens' database",
                "Субъект азаматтар базасынан табылмады",
            ),
            r::WRONG_OTP => (
                "Неверный SMS-код введён 3 раза",
                "A wrong SMS code was entered 3 times",
                "Қате SMS-код 3 рет енгізілді",
            ),
            r::DOCUMENT_UNREADABLE => (
                "Документ на изображении не удалось прочитать",
                "The document on the image could not be read",
                "Суреттегі құжатты оқу мүмкін болмады",
            ),
            _ => return None,
        };
        Some(match self {
            Self::Ru => ru,
            Self::En => en,
            Self::Kz => kz,
        })
    }

    /// A form sent with an action the page's buttons do not send.
    pub fn unknown_action(self, action: &str) -> String {
        match self {
            Self::Ru => {
                format!("Неизвестное действие «{action}»: кнопки страницы отправляют scripted, passed или failed.")
            }
            Self::En => format!("Unknown action {action:?}: the page's buttons send scripted, passed or failed."),
            Self::Kz => {
                format!("Белгісіз әрекет «{action}»: беттің батырмалары scripted, passed немесе failed жібереді.")
            }
        }
    }
}
