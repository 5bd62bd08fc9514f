package org.jvirtio.platform.instance;

import java.util.HashMap;
import java.util.Map;

import org.osgi.service.component.annotations.Component;

/**
 * Which configuration owns which device id: the first instance to claim an id gets it, a second one
 * with the same id is refused (and logged) while the first keeps running.
 */
@Component(service = InstanceIds.class)
public final class InstanceIds {
    private final Map<String, String> owners = new HashMap<>();

    /** @return null if {@code owner} now holds {@code id}, else the owner that already does */
    synchronized String claim(String id, String owner) {
        String current = owners.putIfAbsent(id, owner);
        return current == null || current.equals(owner) ? null : current;
    }

    synchronized void release(String id, String owner) {
        owners.remove(id, owner);
    }
}
