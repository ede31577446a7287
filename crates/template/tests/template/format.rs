//! Go `fmt` behaviour through templates (printf/print/println, %v of values).

use crate::rule::exp;

#[test]
fn printf_verbs() {
    // Expected outputs per Go's fmt package documentation.
    assert_eq!(exp(r#"{{ printf "%.4g" 1234567.0 }}"#), "1.235e+06");
    assert_eq!(exp(r#"{{ printf "%5.1f%%" 99.44 }}"#), " 99.4%");
    assert_eq!(
        exp(r#"{{ printf "%d|%5d|%-5d|%05d" 42 42 42 -42 }}"#),
        "42|   42|42   |-0042"
    );
    assert_eq!(
        exp(r#"{{ printf "%q %s %x %X" "a\"b" "str" 255 "hi" }}"#),
        r#""a\"b" str ff 6869"#
    );
    assert_eq!(
        exp(r#"{{ printf "%t %v %v" true 1.5 nil }}"#),
        "true 1.5 <nil>"
    );
    assert_eq!(
        exp(r#"{{ printf "%e %E %.2e" 1234.5678 1234.5678 0.000123 }}"#),
        "1.234568e+03 1.234568E+03 1.23e-04"
    );
    assert_eq!(
        exp(r#"{{ printf "%g %g %g" 100000.0 1000000.0 0.00001 }}"#),
        "100000 1e+06 1e-05"
    );
    assert_eq!(exp(r#"{{ printf "%d" "x" }}"#), "%!d(string=x)");
    assert_eq!(exp(r#"{{ printf "%s and %s" "a" }}"#), "a and %!s(MISSING)");
    assert_eq!(exp(r#"{{ printf "hi" 1 }}"#), "hi%!(EXTRA int=1)");
    assert_eq!(
        exp(r#"{{ printf "%v" $labels }}"#),
        "map[alertname:HighLoad instance:node1:9100]"
    );
    assert_eq!(
        exp(r#"{{ printf "%T %T %T" 1 1.5 "s" }}"#),
        "int float64 string"
    );
}

#[test]
fn print_and_println() {
    // fmt.Sprint adds spaces between operands when neither is a string.
    assert_eq!(exp(r#"{{ print 1 2 "a" "b" 3 }}"#), "1 2ab3");
    assert_eq!(exp(r#"{{ println "a" 1 }}"#), "a 1\n");
    assert_eq!(
        exp("{{ $labels }}"),
        "map[alertname:HighLoad instance:node1:9100]"
    );
    assert_eq!(
        exp("{{ true }} {{ 7 }} {{ -0.0 }} {{ 0.000012 }}"),
        "true 7 -0 1.2e-05"
    );
}
