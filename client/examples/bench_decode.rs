//! Decode benchmark (not a test): success rate on generated sets and time per
//! frame, for our combined decoder and for each engine alone. Writes every
//! image of the sets to `--out DIR` (PNG) with `labels.tsv`, so that
//! `scripts/bench decode` can run zbarimg and zxing-cpp on the same files.
//!
//! ```sh
//! cargo run --release -p qrlogin-client --example bench_decode -- --out /tmp/qr-bench
//! ```

#[path = "../tests/synth/mod.rs"]
mod synth;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use image::GrayImage;
use qrlogin_client::decode::{Decoder, Engine, FrameDecoder, Pass, Step};

/// A simple deterministic generator (xorshift), so the sets are the same on
/// every machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn unit(&mut self) -> f32 {
        (self.next() % 10_000) as f32 / 10_000.0
    }
    fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.unit()
    }
}

/// The "hard" set: every case mixes several distortions at random strengths,
/// like photos of a screen taken with a webcam.
fn hard_set(count: usize) -> Vec<synth::Case> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    (0..count)
        .map(|i| {
            let text = synth::login_text("https://login.example.com", (i % 250) as u8);
            let module = 2 + (rng.next() % 6) as u32;
            let mut img = synth::render(&text, module);
            let mut name = format!("hard_{i:03}_m{module}");
            if rng.unit() < 0.6 {
                let deg = rng.range(0.0, 45.0);
                img = synth::rotate(&img, deg);
                write!(name, "_rot{deg:.0}").ok();
            }
            if rng.unit() < 0.4 {
                let amount = rng.range(0.05, 0.3);
                img = synth::perspective(&img, amount);
                write!(name, "_persp{amount:.2}").ok();
            }
            let (w, h): (u32, u32) = if rng.unit() < 0.5 {
                (640, 480)
            } else {
                (1280, 720)
            };
            let x = (rng.unit() * w.saturating_sub(img.width()) as f32) as u32;
            let y = (rng.unit() * h.saturating_sub(img.height()) as f32) as u32;
            img = synth::place(&img, w, h, x, y);
            if rng.unit() < 0.4 {
                let sigma = rng.range(0.5, 2.5);
                img = synth::blur(&img, sigma);
                write!(name, "_blur{sigma:.1}").ok();
            }
            if rng.unit() < 0.3 {
                let lo = rng.range(0.0, 110.0) as u8;
                let hi = lo + rng.range(40.0, 120.0) as u8;
                img = synth::low_contrast(&img, lo, hi);
                write!(name, "_contrast{lo}-{hi}").ok();
            }
            if rng.unit() < 0.3 {
                img = synth::uneven_light(&img);
                name.push_str("_light");
            }
            if rng.unit() < 0.5 {
                let sd = rng.range(5.0, 40.0);
                img = synth::noise(&img, f64::from(sd), rng.next());
                write!(name, "_noise{sd:.0}").ok();
            }
            if rng.unit() < 0.2 {
                img = synth::invert(&img);
                name.push_str("_inv");
            }
            if rng.unit() < 0.5 {
                let q = rng.range(20.0, 80.0) as u8;
                img = synth::jpeg(&img, q);
                write!(name, "_jpeg{q}").ok();
            }
            synth::Case {
                name,
                text,
                image: img,
            }
        })
        .collect()
}

struct Contender {
    name: &'static str,
    decoder: Decoder,
}

fn contenders() -> Vec<Contender> {
    vec![
        Contender {
            name: "qrlogin (rxing + rqrr, default plan)",
            decoder: Decoder::default().until_login_code(),
        },
        Contender {
            name: "rxing steps of the plan only (both detectors)",
            decoder: Decoder::with_engines(&[Engine::Rxing, Engine::RxingClassic])
                .until_login_code(),
        },
        Contender {
            name: "rqrr steps of the plan only",
            decoder: Decoder::with_engines(&[Engine::Rqrr]).until_login_code(),
        },
        Contender {
            name: "rxing (zxing-cpp-port detector), one plain call",
            decoder: Decoder::new(vec![Step {
                pass: Pass::Plain,
                engine: Engine::Rxing,
            }]),
        },
        Contender {
            name: "rqrr, one plain call",
            decoder: Decoder::new(vec![Step {
                pass: Pass::Plain,
                engine: Engine::Rqrr,
            }]),
        },
    ]
}

fn read(decoder: &Decoder, case: &synth::Case) -> bool {
    decoder
        .decode(&case.image)
        .iter()
        .any(|f| f.text == case.text)
}

/// Mean and 95th percentile of `f` over `runs` runs.
fn time(runs: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    f(); // warm up
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / runs as u32;
    (mean, times[(runs * 95 / 100).min(runs - 1)])
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1000.0)
}

fn main() -> anyhow::Result<()> {
    let mut out_dir: Option<PathBuf> = None;
    let mut hard_count = 200;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--out" => out_dir = args.next().map(PathBuf::from),
            "--hard" => hard_count = args.next().and_then(|n| n.parse().ok()).unwrap_or(200),
            other => anyhow::bail!("unknown argument {other} (use --out DIR, --hard N)"),
        }
    }
    let sets = [
        ("generated (named distortions)", synth::cases()),
        ("hard (random mixed distortions)", hard_set(hard_count)),
    ];
    let mut report = String::new();

    writeln!(report, "### Success rate\n")?;
    write!(report, "| decoder |")?;
    for (name, set) in &sets {
        write!(report, " {name}, n={} |", set.len())?;
    }
    writeln!(report, "\n|---|{}", "---|".repeat(sets.len()))?;
    for c in contenders() {
        write!(report, "| {} |", c.name)?;
        for (_, set) in &sets {
            let ok = set.iter().filter(|case| read(&c.decoder, case)).count();
            write!(
                report,
                " {:.1}% ({ok}) |",
                100.0 * ok as f64 / set.len() as f64
            )?;
        }
        writeln!(report)?;
    }

    // The live decoder: a still scene seen for up to 10 frames.
    write!(report, "| FrameDecoder (live), within 10 frames |")?;
    for (_, set) in &sets {
        let ok = set
            .iter()
            .filter(|case| {
                let mut live = FrameDecoder::new();
                (0..10).any(|_| live.decode(&case.image).iter().any(|f| f.text == case.text))
            })
            .count();
        write!(
            report,
            " {:.1}% ({ok}) |",
            100.0 * ok as f64 / set.len() as f64
        )?;
    }
    writeln!(report)?;

    // What each step of the default plan contributes: the step that first
    // read each case.
    writeln!(
        report,
        "\n### Which step of the default plan read each case (both sets)\n"
    )?;
    writeln!(report, "| step | cases |\n|---|---|")?;
    let mut first_step: Vec<(String, usize)> = Vec::new();
    let mut unread = 0;
    for case in sets.iter().flat_map(|(_, s)| s.iter()) {
        let found = Decoder::default().until_login_code().decode(&case.image);
        match found.iter().find(|f| f.text == case.text) {
            Some(f) => {
                let key = format!("{:?} / {:?}", f.pass, f.engine);
                match first_step.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, n)) => *n += 1,
                    None => first_step.push((key, 1)),
                }
            }
            None => {
                unread += 1;
                eprintln!("not read: {}", case.name);
            }
        }
    }
    for (step, n) in &first_step {
        writeln!(report, "| {step} | {n} |")?;
    }
    writeln!(report, "| not read | {unread} |")?;

    writeln!(
        report,
        "\n### Time per frame (release build, this machine)\n"
    )?;
    writeln!(
        report,
        "| decoder | 640×480 with code mean / p95 ms | 640×480 no code | 1280×720 with code | 1280×720 no code |\n|---|---|---|---|---|"
    )?;
    let text = synth::login_text("https://login.example.com", 1);
    let frames = [
        synth::noise(
            &synth::center(&synth::rotate(&synth::render(&text, 5), 20.0), 640, 480),
            10.0,
            1,
        ),
        synth::noise(
            &synth::place(&GrayImage::new(0, 0), 640, 480, 0, 0),
            10.0,
            2,
        ),
        synth::noise(
            &synth::center(&synth::rotate(&synth::render(&text, 6), 20.0), 1280, 720),
            10.0,
            3,
        ),
        synth::noise(
            &synth::place(&GrayImage::new(0, 0), 1280, 720, 0, 0),
            10.0,
            4,
        ),
    ];
    for c in contenders() {
        write!(report, "| {} |", c.name)?;
        for frame in &frames {
            let (mean, p95) = time(30, || {
                std::hint::black_box(c.decoder.decode(frame));
            });
            write!(report, " {} / {} |", ms(mean), ms(p95))?;
        }
        writeln!(report)?;
    }

    for step in qrlogin_client::decode::DEFAULT_PLAN {
        write!(report, "| step {:?} / {:?} alone |", step.pass, step.engine)?;
        let decoder = Decoder::new(vec![*step]);
        for frame in &frames {
            let (mean, p95) = time(10, || {
                std::hint::black_box(decoder.decode(frame));
            });
            write!(report, " {} / {} |", ms(mean), ms(p95))?;
        }
        writeln!(report)?;
    }
    write!(
        report,
        "| FrameDecoder (live: finder prefilter, then rxing + one other step per frame; mean / p95 over a stream) |"
    )?;
    let mut live_means = Vec::new();
    for frame in &frames {
        let mut live = FrameDecoder::new();
        let (mean, p95) = time(30, || {
            std::hint::black_box(live.decode(frame));
        });
        write!(report, " {} / {} |", ms(mean), ms(p95))?;
        live_means.push(ms(mean));
    }
    writeln!(report)?;

    if let Some(dir) = out_dir {
        std::fs::create_dir_all(&dir)?;
        let mut labels = String::new();
        for (set_name, set) in &sets {
            let set_key = set_name.split_whitespace().next().unwrap_or("set");
            for case in set {
                let file = format!("{set_key}__{}.png", case.name);
                case.image.save(dir.join(&file))?;
                writeln!(labels, "{set_key}\t{file}\t{}", case.text)?;
            }
        }
        std::fs::write(dir.join("labels.tsv"), labels)?;
        // Timing frames for the external decoders, and the live decoder's
        // mean times on them (for the ratios `scripts/bench decode` prints).
        for (i, frame) in frames.iter().enumerate() {
            frame.save(dir.join(format!("timing_{i}.png")))?;
        }
        std::fs::write(dir.join("live_ms.txt"), live_means.join(" ") + "\n")?;
    }
    print!("{report}");
    Ok(())
}
