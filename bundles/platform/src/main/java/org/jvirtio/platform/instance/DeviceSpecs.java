package org.jvirtio.platform.instance;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code --device} strings, in QEMU's option syntax: {@code TYPE,key=value,...}, a comma inside a
 * value written {@code ,,}. The same keys as an instance's file in {@code conf/}, with {@code type}
 * in front. Public for the launcher, which checks a command line before it starts the framework.
 */
public final class DeviceSpecs {
    /** The framework property through which the launcher hands its {@code --device} options over, one per line. */
    public static final String FRAMEWORK_PROPERTY = "jvirtio.devices";

    private DeviceSpecs() {
    }

    /**
     * The keys of one {@code --device} value, {@code type} first.
     *
     * @throws InstanceConfigException for a key without {@code =value}, an empty or repeated key
     */
    public static Map<String, String> parse(String spec) {
        List<String> parts = split(spec);
        Map<String, String> keys = new LinkedHashMap<>();
        keys.put("type", parts.get(0));
        for (String part : parts.subList(1, parts.size())) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new InstanceConfigException("--device " + spec + ": '" + part + "' is not key=value");
            }
            String key = part.substring(0, eq);
            if (keys.put(key, part.substring(eq + 1)) != null) {
                throw new InstanceConfigException("--device " + spec + ": " + key + " given twice");
            }
        }
        return keys;
    }

    /**
     * Checks everything an instance with these keys needs that can be checked without opening
     * anything (files and sockets are the components' business when they start).
     *
     * @return the instance's id
     * @throws InstanceConfigException naming the device and the key
     */
    public static String check(Map<String, String> keys) {
        return InstancePlan.of(keys).id();
    }

    /** Splits at single commas; {@code ,,} stands for a comma. */
    private static List<String> split(String spec) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (int i = 0; i < spec.length(); i++) {
            char ch = spec.charAt(i);
            if (ch == ',' && i + 1 < spec.length() && spec.charAt(i + 1) == ',') {
                current.append(',');
                i++;
            } else if (ch == ',') {
                parts.add(current.toString());
                current.setLength(0);
            } else {
                current.append(ch);
            }
        }
        parts.add(current.toString());
        return parts;
    }
}
