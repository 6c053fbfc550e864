package dev.pmemfs.fs.cli;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;

/**
 * Sizes with binary suffixes ({@code 512M}, {@code 1G}, {@code 64KiB}, {@code 4096}) and
 * durations ({@code 30s}, {@code 500ms}, {@code 2m}, {@code 1h}; a bare number is seconds), as
 * picocli converters so a bad value is an ordinary one-line usage error.
 */
final class Units {
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*([kmgt]?)(i?b)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h)?", Pattern.CASE_INSENSITIVE);

    private Units() {
    }

    static long size(String s) {
        Matcher m = SIZE.matcher(s.strip());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + s + "' is not a size (examples: 4096, 512K, 256M, 1G, 2T)");
        }
        int shift = switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "k" -> 10;
            case "m" -> 20;
            case "g" -> 30;
            case "t" -> 40;
            default -> 0;
        };
        try {
            long v = Long.parseLong(m.group(1));
            if (v > (Long.MAX_VALUE >> shift)) {
                throw new NumberFormatException();
            }
            return v << shift;
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("size '" + s + "' is too large");
        }
    }

    static Duration duration(String s) {
        Matcher m = DURATION.matcher(s.strip());
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + s + "' is not a duration (examples: 500ms, 30s, 2m, 1h)");
        }
        long v;
        try {
            v = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new CommandLine.TypeConversionException("duration '" + s + "' is too large");
        }
        String unit = m.group(2) == null ? "s" : m.group(2).toLowerCase(Locale.ROOT);
        return switch (unit) {
            case "ms" -> Duration.ofMillis(v);
            case "m" -> Duration.ofMinutes(v);
            case "h" -> Duration.ofHours(v);
            default -> Duration.ofSeconds(v);
        };
    }

    /** picocli converter for sizes. */
    static final class SizeConverter implements CommandLine.ITypeConverter<Long> {
        @Override
        public Long convert(String value) {
            return size(value);
        }
    }

    /** picocli converter for durations. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(value);
        }
    }
}
