package org.jvirtio.platform.instance;

import java.util.Map;

/**
 * One component of a device instance, as the factory configuration that makes it: which factory
 * ({@code factoryPid}) and its properties. Equal parts need no change when an instance is edited.
 */
record ComponentConfig(String factoryPid, Map<String, Object> properties) {
    ComponentConfig {
        properties = Map.copyOf(properties);
    }
}
