package org.jvirtio.platform.instance;

import java.util.Set;

/**
 * How one device type's instance keys become its backend's and its device's configurations. The
 * factory PIDs are the device bundles' (plain strings: this bundle depends on no device bundle, so a
 * device bundle can be updated or missing without it).
 */
interface DeviceType {

    /** The {@code type} value, e.g. {@code blk}. */
    String name();

    /** The keys this type reads, besides the transport's and {@code id}/{@code type}. */
    Set<String> keys();

    /** The {@code backend} value in effect, e.g. {@code file}: the given one checked, or the type's default. */
    String backendName(InstanceKeys keys);

    /** The backend's configuration, or null for a type that has none (balloon). */
    ComponentConfig backend(InstanceKeys keys);

    /** The device property whose filter selects its backend by tag. */
    default String backendTarget() {
        return "backend.target";
    }

    /** Whether only {@code transport=pci} can carry this type (QEMU has no vhost-user front end for it). */
    default boolean pciOnly() {
        return false;
    }

    /** The device, without its {@code backend.target} (the instance adds it: it names a backend generation). */
    ComponentConfig device(InstanceKeys keys);
}
