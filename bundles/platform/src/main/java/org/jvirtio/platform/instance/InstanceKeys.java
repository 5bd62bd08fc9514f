package org.jvirtio.platform.instance;

import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The keys of one device instance as the user wrote them (a file in {@code conf/}, a {@code --device}
 * option), read with the messages a user can act on: each names the instance and the key. A key given
 * with an empty value is an error, not its default: {@code mtu=} is more likely a slip than a wish.
 */
final class InstanceKeys {
    /** What QEMU accepts as an id: a letter, then letters, digits, '-', '.', '_'. Also a switch's name. */
    static final Pattern ID = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,63}");
    private static final Pattern SIZE = Pattern.compile("([0-9]{1,19})([KMGT]?)", Pattern.CASE_INSENSITIVE);

    private final Map<String, String> keys;
    private final String id;

    /** @throws InstanceConfigException if {@code id} is missing or not a QEMU-style id */
    InstanceKeys(Map<String, String> keys) {
        this.keys = keys;
        String given = keys.get("id");
        if (given == null || given.isBlank()) {
            throw new InstanceConfigException("a device instance needs id=NAME");
        }
        if (!ID.matcher(given).matches()) {
            throw new InstanceConfigException("id=" + given
                    + ": a letter, then up to 63 letters, digits, '-', '.', '_'");
        }
        this.id = given;
    }

    String id() {
        return id;
    }

    /** Every key given that is not in {@code known}: a typo the user should hear about. */
    void rejectUnknown(Set<String> known) {
        Set<String> unknown = new TreeSet<>(keys.keySet());
        unknown.removeAll(known);
        if (!unknown.isEmpty()) {
            throw error(String.join(", ", unknown), "unknown key(s); known: " + String.join(", ", new TreeSet<>(known)));
        }
    }

    boolean has(String key) {
        return keys.containsKey(key);
    }

    String required(String key) {
        String v = keys.get(key);
        if (v == null || v.isEmpty()) {
            throw error(key, "missing");
        }
        return v;
    }

    /** A file system path, required. */
    String path(String key) {
        String v = required(key);
        try {
            Path.of(v);
        } catch (InvalidPathException e) {
            throw error(key, "'" + v.replace("\0", "\\0") + "' is not a path (" + e.getReason() + ")");
        }
        return v;
    }

    /** The value of {@code key}, {@code otherwise} if it is not given; given empty is an error. */
    String text(String key, String otherwise) {
        String v = keys.get(key);
        if (v == null) {
            return otherwise;
        }
        if (v.isEmpty()) {
            throw error(key, "empty (leave the key out for its default)");
        }
        return v;
    }

    /** One of {@code choices} (case-insensitive), in lower case. */
    String choice(String key, String otherwise, Set<String> choices) {
        String v = text(key, otherwise).toLowerCase(Locale.ROOT);
        if (!choices.contains(v)) {
            throw error(key, "'" + v + "' is not one of " + new TreeSet<>(choices));
        }
        return v;
    }

    /** {@code on|off|true|false|yes|no}. */
    boolean flag(String key, boolean otherwise) {
        String v = keys.get(key);
        if (v == null) {
            return otherwise;
        }
        switch (v.toLowerCase(Locale.ROOT)) {
            case "on": case "true": case "yes":
                return true;
            case "off": case "false": case "no":
                return false;
            default:
                throw error(key, "'" + v + "' is not on or off");
        }
    }

    int number(String key, int otherwise, int min, int max) {
        String v = keys.get(key);
        if (v == null) {
            return otherwise;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw error(key, "'" + v + "' is not a whole number from " + min + " to " + max);
    }

    /**
     * Bytes, with an optional K, M, G or T suffix (powers of 1024), positive and a multiple of 512 (a
     * disk is whole sectors); 0 if not given.
     */
    long size(String key) {
        String v = keys.get(key);
        if (v == null) {
            return 0;
        }
        Matcher m = SIZE.matcher(v);
        if (m.matches()) {
            int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                case "T" -> 40;
                default -> 0;
            };
            try {
                long n = Long.parseLong(m.group(1));
                if (n > 0 && n <= Long.MAX_VALUE >> shift && ((n << shift) & 511) == 0) {
                    return n << shift;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw error(key, "'" + v + "' is not a size (a positive multiple of 512 bytes, or a number with K, M, G, T;"
                + " at most 8388607T)");
    }

    InstanceConfigException error(String key, String why) {
        return new InstanceConfigException("device " + id + ": " + key + ": " + why);
    }
}
