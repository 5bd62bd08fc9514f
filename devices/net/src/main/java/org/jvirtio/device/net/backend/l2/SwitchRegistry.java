package org.jvirtio.device.net.backend.l2;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The switches of this bundle by name, so that every device configured with switch "lan0" plugs into
 * the same one. A DS component (one per bundle, configuration optional) rather than a static map: the
 * switches go when the bundle stops, and a test makes its own registry with its own clock.
 */
@Component(service = SwitchRegistry.class, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        configurationPid = SwitchRegistry.PID)
@Designate(ocd = SwitchRegistry.Config.class)
public final class SwitchRegistry {
    public static final String PID = "org.jvirtio.net.switches";

    @ObjectClassDefinition(name = "jvirtio L2 switches", description = "Settings shared by every in-JVM switch")
    public @interface Config {
        /** Seconds a learned address lives without traffic from it (802.1D's default). */
        int ageingSeconds() default 300;

        /** Addresses each switch can learn: a power of two. */
        int tableSize() default 4096;
    }

    private final ConcurrentMap<String, L2Switch> switches = new ConcurrentHashMap<>();
    private final LongSupplier nanoClock;
    private final long ageingNanos;
    private final int tableSize;

    @Activate
    public SwitchRegistry(Config config) {
        this(System::nanoTime, TimeUnit.SECONDS.toNanos(config.ageingSeconds()), config.tableSize());
    }

    public SwitchRegistry(LongSupplier nanoClock, long ageingNanos, int tableSize) {
        this.nanoClock = nanoClock;
        this.ageingNanos = ageingNanos;
        this.tableSize = tableSize;
    }

    /** The switch called {@code name}, made on first use. */
    public L2Switch forName(String name) {
        return switches.computeIfAbsent(name, n -> new L2Switch(n, nanoClock, ageingNanos, tableSize));
    }
}
