//! [`FrameDecoder`]: decoding a live camera stream within a frame budget.
//!
//! Most frames of a live stream hold no code, and running the whole default
//! plan on each would cost several times the first step. So every frame
//! gets the first, most productive step (rxing on the frame, both
//! polarities), and the other steps of [`IN_TURN`] take turns, one per
//! frame: a code that needs one of them is read within a few frames (a
//! fraction of a second), while no frame costs more than two steps. The
//! costly size-changing passes of still images (double, quarter) are left
//! out: a camera moved closer does better.
//!
//! Before any step, a cheap prefilter ([`finder::may_hold_code`]) drops
//! frames without anything like a finder pattern — most frames of a stream,
//! and on a noisy one the detectors' costliest case. It is generous (it
//! passes every frame of the generated sets that the steps can read), and
//! the frame's binarization is kept for rxing, which needs the same one.

use image::GrayImage;
use qrlogin_core::LoginQr;

use super::{Decoder, Engine, Found, Pass, Step, accepted_login_qr, binarize, finder, step};

/// The step every frame gets.
pub const EVERY_FRAME: Step = step(Pass::Plain, Engine::Rxing);

/// The steps that take turns, one per frame.
pub const IN_TURN: &[Step] = &[
    step(Pass::Enhanced, Engine::Rxing),
    step(Pass::Half, Engine::Rxing),
    step(Pass::Plain, Engine::RxingClassic),
    step(Pass::Plain, Engine::Rqrr),
    step(Pass::Inverted, Engine::Rqrr),
    step(Pass::Enhanced, Engine::Rqrr),
];

/// Decodes successive frames of one camera stream. Keep one per stream.
#[derive(Debug, Clone, Default)]
pub struct FrameDecoder {
    turn: usize,
}

impl FrameDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The steps this frame gets.
    fn plan(&mut self, width: u32, height: u32) -> Vec<Step> {
        let applicable: Vec<Step> = IN_TURN
            .iter()
            .copied()
            .filter(|s| s.pass.applies(width, height))
            .collect();
        let mut plan = vec![EVERY_FRAME];
        if !applicable.is_empty() {
            plan.push(applicable[self.turn % applicable.len()]);
            self.turn = self.turn.wrapping_add(1);
        }
        plan
    }

    /// Every code found in this frame, login codes first.
    pub fn decode(&mut self, frame: &GrayImage) -> Vec<Found> {
        let Some(bits) = binarize::hybrid(frame) else {
            return Vec::new();
        };
        if !finder::may_hold_code(frame, &bits) {
            return Vec::new();
        }
        let plan = self.plan(frame.width(), frame.height());
        Decoder::new(plan)
            .until_login_code()
            .decode_binarized(frame, Some(bits))
    }

    /// The login code in this frame, if one is found.
    pub fn find_login_qr(&mut self, frame: &GrayImage) -> Option<LoginQr> {
        accepted_login_qr(self.decode(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn costly_steps_take_turns_and_every_one_gets_a_turn() {
        let mut live = FrameDecoder::new();
        let mut seen = Vec::new();
        for _ in 0..IN_TURN.len() {
            let plan = live.plan(1280, 720);
            assert_eq!(plan.len(), 2);
            assert_eq!(plan[0], EVERY_FRAME);
            seen.push(plan[1]);
        }
        assert_eq!(seen, IN_TURN);
        // A small frame skips the half-size pass.
        let small: Vec<Step> = (0..IN_TURN.len() - 1)
            .map(|_| live.plan(640, 480)[1])
            .collect();
        assert!(small.iter().all(|s| s.pass != Pass::Half));
    }
}
