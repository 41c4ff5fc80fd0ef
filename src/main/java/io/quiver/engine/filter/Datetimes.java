package io.quiver.engine.filter;

import java.time.DateTimeException;
import java.time.LocalDate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses datetimes the way Qdrant does (its {@code DateTimeWrapper::from_str}) into epoch
 * microseconds, Qdrant's own datetime index unit. Accepted: RFC 3339 ({@code 2020-01-01T10:00:00Z},
 * {@code ...t...}, {@code ... 10:00:00.123+02:00}); the same with an offset without colon or minutes
 * ({@code +0200}, {@code +02}) and with spaces before it; no offset at all ({@code 2020-01-01T10:00:00},
 * {@code 2020-01-01 10:00:00.5}, taken as UTC); {@code 2020-01-01 10:00}; and {@code 2020-01-01}.
 */
public final class Datetimes {
  private Datetimes() {}

  private static final Pattern FORMAT = Pattern.compile(
      "(\\d{4})-(\\d{1,2})-(\\d{1,2})"
          + "(?:([Tt]|\\s+)(\\d{1,2}):(\\d{1,2})(?::(\\d{1,2})(?:\\.(\\d+))?)?(\\s*)(Z|z|[+-]\\d{2}(?::?\\d{2})?)?)?");

  /** Epoch microseconds (floored), or null when {@code s} is not a datetime Qdrant accepts. */
  public static Long parseMicros(String s) {
    // cheap rejection: most payload strings are not dates
    if (s.length() < 8 || s.length() > 64 || s.charAt(0) < '0' || s.charAt(0) > '9' || s.charAt(4) != '-') {
      return null;
    }
    Matcher m = FORMAT.matcher(s);
    if (!m.matches()) {
      return null;
    }
    String sep = m.group(4);
    String seconds = m.group(7);
    String offset = m.group(10);
    boolean spaceBeforeOffset = m.group(9) != null && !m.group(9).isEmpty();
    if (sep != null) {
      if (seconds == null) {
        // only "%Y-%m-%d %H:%M" has no seconds: space separator, nothing after the minutes
        if (!Character.isWhitespace(sep.charAt(0)) || offset != null || spaceBeforeOffset) {
          return null;
        }
      } else if (offset == null && (sep.equals("t") || spaceBeforeOffset)) {
        return null; // the naive formats take a literal 'T' or a space and end at the seconds
      }
    }
    try {
      LocalDate date = LocalDate.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3)));
      long secs = date.toEpochDay() * 86_400L;
      long nanos = 0;
      if (sep != null) {
        int h = Integer.parseInt(m.group(5));
        int min = Integer.parseInt(m.group(6));
        int sec = seconds == null ? 0 : Integer.parseInt(seconds);
        if (h > 23 || min > 59 || sec > 60) {
          return null;
        }
        secs += h * 3600L + min * 60L + sec; // second 60 is a leap second: the next second, as chrono counts it
        if (m.group(8) != null) {
          String frac = (m.group(8) + "000000000").substring(0, 9);
          nanos = Long.parseLong(frac);
        }
        if (offset != null && offset.length() > 1) {
          String digits = offset.substring(1).replace(":", "");
          int oh = Integer.parseInt(digits.substring(0, 2));
          int om = digits.length() > 2 ? Integer.parseInt(digits.substring(2)) : 0;
          if (oh > 23 || om > 59) {
            return null;
          }
          int off = oh * 3600 + om * 60;
          secs -= offset.charAt(0) == '-' ? -off : off;
        }
      }
      return Math.addExact(Math.multiplyExact(secs, 1_000_000L), nanos / 1000);
    } catch (DateTimeException | ArithmeticException e) {
      return null;
    }
  }
}
