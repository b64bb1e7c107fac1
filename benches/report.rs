//! Time to draw and sign one PDF report (`cargo bench --bench report`): the work the report
//! endpoint does off the async threads. Prints p50, p99 and the mean over 300 reports.

use std::time::{Duration, Instant};

use biometric_kz_mock::report::{ReportData, ReportKind, render_signed};

fn main() {
    let data = ReportData {
        session_id: "3fa85f64-5717-4562-b3fc-2c963f66afa6".into(),
        flow_name: "Flow for everyone".into(),
        iin: "900101300017".into(),
        technology_code: "F2F".into(),
        technology_name: "Face2Face".into(),
        kind: ReportKind::FaceComparison,
        passed: true,
        score: Some("0.9412".into()),
        score_percent: Some("94.12".into()),
        failure_reason: None,
        created_at: "2026-01-01T12:00:00.000000Z".into(),
        finished_at: "2026-01-01T12:01:00.000000Z".into(),
        generated_at: "2026-01-01T12:02:00.000000Z".into(),
    };
    // The first report parses the font and loads the key; it is not a steady-state cost.
    let first = Instant::now();
    let size = render_signed(&data).expect("a report").len();
    let first = first.elapsed();
    let mut times: Vec<Duration> = (0..300)
        .map(|_| {
            let start = Instant::now();
            render_signed(&data).expect("a report");
            start.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / u32::try_from(times.len()).expect("300 fits");
    println!("report: first {first:.2?} (font and key loaded), then over {} reports:", times.len());
    println!(
        "report: p50 {:.2?}  p99 {:.2?}  mean {mean:.2?}  size {size} bytes",
        times[times.len() / 2],
        times[times.len() * 99 / 100]
    );
}
