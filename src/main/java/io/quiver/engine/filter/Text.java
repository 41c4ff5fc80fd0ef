package io.quiver.engine.filter;

import java.util.ArrayList;
import java.util.List;

/** Character classes as Rust defines them, which Qdrant's key parser and tokenizers use. */
final class Text {
  private Text() {}

  /** Rust's {@code char::is_alphanumeric}: Unicode Alphabetic or Numeric (Nd, Nl, No). */
  static boolean isAlphanumeric(int cp) {
    if (Character.isAlphabetic(cp)) {
      return true;
    }
    int type = Character.getType(cp);
    return type == Character.DECIMAL_DIGIT_NUMBER || type == Character.LETTER_NUMBER || type == Character.OTHER_NUMBER;
  }

  /** Rust's {@code char::is_whitespace}: the Unicode White_Space property (Java's differs on no-break spaces). */
  static boolean isWhitespace(int cp) {
    return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680
        || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
  }

  /** Rust's {@code str::split_whitespace}: non-empty runs between whitespace. */
  static List<String> splitWhitespace(String s) {
    return split(s, true);
  }

  /** Rust's {@code s.split(|c| !c.is_alphanumeric())}, keeping only non-empty pieces. */
  static List<String> splitWords(String s) {
    return split(s, false);
  }

  private static List<String> split(String s, boolean onWhitespace) {
    List<String> out = new ArrayList<>();
    int start = -1;
    for (int i = 0; i < s.length(); ) {
      int cp = s.codePointAt(i);
      boolean sep = onWhitespace ? isWhitespace(cp) : !isAlphanumeric(cp);
      if (sep && start >= 0) {
        out.add(s.substring(start, i));
        start = -1;
      } else if (!sep && start < 0) {
        start = i;
      }
      i += Character.charCount(cp);
    }
    if (start >= 0) {
      out.add(s.substring(start));
    }
    return out;
  }
}
