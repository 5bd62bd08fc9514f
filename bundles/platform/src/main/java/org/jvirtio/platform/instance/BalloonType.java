package org.jvirtio.platform.instance;

import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * virtio-balloon instances (transport=pci only; no backend): {@code target} (the balloon size the
 * guest is asked for, in 4 KiB pages, or a size with K/M/G/T; editing it on a running instance moves
 * the running balloon), {@code stats_period} (seconds between memory statistics samples, 0: only on
 * request), {@code deflate_on_oom}, {@code free_page_hint}, {@code page_reporting}, {@code packed}.
 */
final class BalloonType implements DeviceType {
    static final String DEVICE_PID = "org.jvirtio.balloon.device";
    static final int PAGE_SIZE = 4096;
    /** num_pages is a 32-bit field. */
    static final long MAX_PAGES = 0xFFFF_FFFFL;
    static final int MAX_STATS_PERIOD = 3600;
    private static final Pattern TARGET = Pattern.compile("([0-9]{1,19})([KMGT]?)", Pattern.CASE_INSENSITIVE);

    @Override
    public String name() {
        return "balloon";
    }

    @Override
    public Set<String> keys() {
        return Set.of("target", "stats_period", "deflate_on_oom", "free_page_hint", "page_reporting", "packed");
    }

    @Override
    public boolean pciOnly() {
        return true;
    }

    @Override
    public String backendName(InstanceKeys keys) {
        return "none";
    }

    @Override
    public ComponentConfig backend(InstanceKeys keys) {
        return null;
    }

    @Override
    public ComponentConfig device(InstanceKeys keys) {
        Map<String, Object> p = new HashMap<>();
        p.put("targetPages", targetPages(keys));
        p.put("statsPeriodSeconds", keys.number("stats_period", 10, 0, MAX_STATS_PERIOD));
        p.put("deflateOnOom", keys.flag("deflate_on_oom", true));
        p.put("freePageHint", keys.flag("free_page_hint", true));
        p.put("pageReporting", keys.flag("page_reporting", true));
        p.put("packed", keys.flag("packed", true));
        return new ComponentConfig(DEVICE_PID, p);
    }

    /** {@code target}: pages without a suffix, bytes (whole pages) with K, M, G or T; 0 if not given. */
    static long targetPages(InstanceKeys keys) {
        String v = keys.text("target", "0");
        Matcher m = TARGET.matcher(v);
        if (m.matches()) {
            int shift = switch (m.group(2).toUpperCase(Locale.ROOT)) {
                case "K" -> 10;
                case "M" -> 20;
                case "G" -> 30;
                case "T" -> 40;
                default -> -1; // pages
            };
            try {
                long n = Long.parseLong(m.group(1));
                if (shift < 0 && n <= MAX_PAGES) {
                    return n;
                }
                if (shift >= 0 && n <= (MAX_PAGES * PAGE_SIZE) >> shift && ((n << shift) % PAGE_SIZE) == 0) {
                    return (n << shift) / PAGE_SIZE;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
        }
        throw keys.error("target", "'" + v + "' is not a balloon size (4 KiB pages, 0 to " + MAX_PAGES
                + ", or whole pages as a size with K, M, G, T: at most 16383G)");
    }
}
