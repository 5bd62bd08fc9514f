package org.jvirtio.device.net.backend.l2;

import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetPort;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The backend "switch": plugs each device that uses it into the in-JVM switch of the configured name.
 * Several backend configurations with the same name, or one shared by several devices, all reach the
 * same switch.
 */
@Component(service = NetBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = SwitchBackend.PID)
@Designate(ocd = SwitchBackend.Config.class, factory = true)
public final class SwitchBackend implements NetBackend {
    public static final String PID = "org.jvirtio.net.backend.switch";

    @ObjectClassDefinition(name = "jvirtio net backend: switch", description = "A port on an in-JVM L2 switch")
    public @interface Config {
        /** The switch's name. */
        String name() default "default";
    }

    private final L2Switch target;

    @Activate
    public SwitchBackend(@Reference SwitchRegistry registry, Config config) {
        this(registry.forName(config.name()));
    }

    public SwitchBackend(L2Switch target) {
        this.target = target;
    }

    public L2Switch target() {
        return target;
    }

    @Override
    public NetPort attach(FrameSink sink, byte[] mac) {
        return target.attach(sink, mac);
    }

    @Override
    public String toString() {
        return "SwitchBackend[" + target.name() + "]";
    }
}
