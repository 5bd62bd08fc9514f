package org.jvirtio.platform.instance;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;

import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The launcher's {@code --device} options, handed over in the framework property
 * {@link DeviceSpecs#FRAMEWORK_PROPERTY} (one per line), as device instance configurations: the same
 * as files in {@code conf/}, but gone when the framework stops.
 */
@Component(service = {})
public final class CommandLineInstances {
    private static final Logger LOG = System.getLogger("org.jvirtio.platform");
    private final List<Configuration> created = new ArrayList<>();

    @Activate
    public CommandLineInstances(@Reference ConfigurationAdmin configAdmin, BundleContext context) {
        String specs = context.getProperty(DeviceSpecs.FRAMEWORK_PROPERTY);
        if (specs == null) {
            return;
        }
        for (String spec : specs.split("\n")) {
            if (spec.isBlank()) {
                continue;
            }
            try {
                Map<String, String> keys = DeviceSpecs.parse(spec.strip());
                Configuration c = configAdmin.createFactoryConfiguration(DeviceInstance.PID, "?");
                c.update(new Hashtable<>(keys));
                created.add(c);
            } catch (InstanceConfigException e) {
                LOG.log(Level.ERROR, e.getMessage());
            } catch (IOException e) {
                LOG.log(Level.ERROR, "--device " + spec + ": configuration admin failed", e);
            }
        }
    }

    @Deactivate
    void deactivate() {
        for (Configuration c : created) {
            try {
                c.delete();
            } catch (IOException | IllegalStateException e) {
                LOG.log(Level.DEBUG, "{0}: {1}", c.getPid(), e.toString());
            }
        }
    }
}
