package org.jvirtio.platform.instance;

import java.util.Map;

/**
 * One component of a device instance, as the factory configuration that makes it: which factory
 * ({@code factoryPid}) and its properties, checked and typed (Integer, Long, Boolean, String). Equal
 * parts need no change when an instance is edited.
 */
public record ComponentConfig(String factoryPid, Map<String, Object> properties) {
    public ComponentConfig {
        properties = Map.copyOf(properties);
    }

    /** The property {@code key}, which the instance's checks guarantee is there. */
    public <T> T get(String key, Class<T> type) {
        Object v = properties.get(key);
        if (v == null) {
            throw new IllegalStateException(factoryPid + " has no " + key);
        }
        return type.cast(v);
    }
}
