//! Emulated time at frame granularity: the video field rate and how many audio samples each
//! field carries.
//!
//! An NTSC Xbox scans out 60000/1001 fields per second and its audio runs at 48 kHz, so a field
//! lasts 800.8 sample periods. Each frame gets the whole samples that fall into it; the fraction
//! carries over exactly (integer arithmetic), so audio never drifts from video.

/// Video fields per second, as a fraction: 60000/1001 (about 59.94).
pub const FIELD_RATE_NUM: u64 = 60_000;
pub const FIELD_RATE_DEN: u64 = 1_001;
/// Audio sample frames per second.
pub const SAMPLE_RATE: u64 = 48_000;

/// The field rate as a float, for frontends that want one.
pub fn field_rate() -> f64 {
    FIELD_RATE_NUM as f64 / FIELD_RATE_DEN as f64
}

/// Audio sample frames elapsed from power-on to the start of `frame`.
fn samples_before(frame: u64) -> u64 {
    // frame * 48000 * 1001 / 60000 overflows u64 only after ~3e11 years of emulated time.
    frame * SAMPLE_RATE * FIELD_RATE_DEN / FIELD_RATE_NUM
}

/// Audio sample frames that belong to video frame `frame` (counting from 0): 800 or 801.
pub fn samples_in_frame(frame: u64) -> usize {
    (samples_before(frame + 1) - samples_before(frame)) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_frames_carry_exactly_4004_samples() {
        let counts: Vec<usize> = (0..5).map(samples_in_frame).collect();
        assert_eq!(counts.iter().sum::<usize>(), 4004);
        assert!(counts.iter().all(|&n| n == 800 || n == 801));
    }

    #[test]
    fn one_emulated_hour_has_no_drift() {
        // 60000/1001 fields per second: 3600 s is 215784.2 fields; 1001 s is exactly 60000.
        let total: u64 = (0..60_000).map(|f| samples_in_frame(f) as u64).sum();
        assert_eq!(total, 1001 * SAMPLE_RATE);
    }
}
