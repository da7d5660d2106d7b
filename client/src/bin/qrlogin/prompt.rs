//! What `qrlogin scan` asks and how it reads the answers: pure functions over
//! text, so the parsing is tested without a terminal.

/// The question of number matching, e.g.
/// `Which number does the sign-in page show? 1) 42  2) 17  3) 80`.
pub fn number_question(choices: &[String; 3]) -> String {
    let listed: Vec<String> = choices
        .iter()
        .enumerate()
        .map(|(i, n)| format!("{}) {n}", i + 1))
        .collect();
    format!(
        "Which number does the sign-in page show? {}",
        listed.join("  ")
    )
}

/// An answer to the number question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pick {
    /// Confirm with this number (one of the choices).
    Number(String),
    /// Do not sign in.
    Cancel,
    /// Not an answer: ask again.
    Unclear,
}

/// Reads the answer to [`number_question`]: the number itself, or its
/// position `1`–`3`; empty, `n`, `no`, `c` or `cancel` cancels. The numbers
/// are two digits (10–99), so a position can never be mistaken for one.
pub fn parse_pick(answer: &str, choices: &[String; 3]) -> Pick {
    let answer = answer.trim().to_ascii_lowercase();
    if matches!(answer.as_str(), "" | "n" | "no" | "c" | "cancel") {
        return Pick::Cancel;
    }
    if let Some(number) = choices.iter().find(|n| **n == answer) {
        return Pick::Number(number.clone());
    }
    match answer.as_str() {
        "1" | "2" | "3" => {
            let index = usize::from(answer.as_bytes()[0] - b'1');
            Pick::Number(choices[index].clone())
        }
        _ => Pick::Unclear,
    }
}

/// Reads the answer to "Confirm this sign-in? [y/N]": only `y`/`yes` confirm.
pub fn parse_yes(answer: &str) -> bool {
    matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choices() -> [String; 3] {
        ["42".into(), "17".into(), "80".into()]
    }

    #[test]
    fn the_question_lists_the_numbers_with_their_positions() {
        assert_eq!(
            number_question(&choices()),
            "Which number does the sign-in page show? 1) 42  2) 17  3) 80"
        );
    }

    #[test]
    fn a_pick_is_the_number_itself_or_its_position() {
        assert_eq!(parse_pick("17", &choices()), Pick::Number("17".into()));
        assert_eq!(parse_pick(" 80\n", &choices()), Pick::Number("80".into()));
        assert_eq!(parse_pick("1", &choices()), Pick::Number("42".into()));
        assert_eq!(parse_pick("3\n", &choices()), Pick::Number("80".into()));
    }

    #[test]
    fn an_empty_or_no_answer_cancels() {
        for answer in ["", "\n", "n", "No", "c", "CANCEL"] {
            assert_eq!(parse_pick(answer, &choices()), Pick::Cancel, "{answer:?}");
        }
    }

    #[test]
    fn anything_else_is_asked_again_never_guessed() {
        for answer in ["4", "0", "55", "4 2", "yes", "42a", "-1"] {
            assert_eq!(parse_pick(answer, &choices()), Pick::Unclear, "{answer:?}");
        }
    }

    #[test]
    fn only_y_or_yes_confirms() {
        assert!(parse_yes("y\n"));
        assert!(parse_yes(" YES "));
        for answer in ["", "n", "no", "yep", "1"] {
            assert!(!parse_yes(answer), "{answer:?}");
        }
    }
}
