package org.jvirtio.platform.shell;

import java.io.IOException;
import java.util.Collections;
import java.util.Dictionary;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;

import org.jvirtio.api.management.ServedDevice;
import org.jvirtio.platform.instance.DeviceInstance;
import org.jvirtio.platform.instance.DeviceSpecs;
import org.jvirtio.platform.instance.InstanceConfigException;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;

/**
 * The gogo commands of scope {@code virtio}: {@code list}, {@code stats ID}, {@code swap ID KEY=VALUE...}
 * (edits the device's instance configuration, e.g. {@code backend=memory size=64M}: the device
 * restarts over the new backend under its connected driver), {@code reset ID} and
 * {@code balloon ID MIB} (sets a balloon's target: an edit of its {@code target} key, which the
 * running balloon applies and the guest follows). Each returns text
 * for the shell to print; a wrong id or key is an answer saying so, not an exception.
 */
@Component(service = VirtioCommands.class, property = {"osgi.command.scope=virtio", "osgi.command.function=list",
        "osgi.command.function=stats", "osgi.command.function=swap", "osgi.command.function=reset",
        "osgi.command.function=balloon"})
public final class VirtioCommands {
    private final ConfigurationAdmin configAdmin;
    private final List<ServedDevice> devices = new CopyOnWriteArrayList<>();

    @Activate
    public VirtioCommands(@Reference ConfigurationAdmin configAdmin) {
        this.configAdmin = configAdmin;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addDevice(ServedDevice device) {
        devices.add(device);
    }

    void removeDevice(ServedDevice device) {
        devices.remove(device);
    }

    /** Every served device: id, type, transport, state, negotiated features, queues, address. */
    public String list() {
        return DeviceTable.list(devices);
    }

    /** Per-queue counters of device {@code id}, and its device model's non-zero counters. */
    public String stats(String id) {
        ServedDevice d = find(id);
        return d == null ? noDevice(id) : DeviceTable.stats(d);
    }

    /** Sets instance keys of device {@code id} ({@code KEY=VALUE} each), as an edit of its configuration would. */
    public String swap(String id, String... keyValues) throws IOException, InvalidSyntaxException {
        Configuration instance = instance(id);
        if (instance == null) {
            return "no device instance " + id + " (see virtio:list)";
        }
        Dictionary<String, Object> properties = instance.getProperties();
        for (String kv : keyValues) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                return "'" + kv + "' is not KEY=VALUE";
            }
            String key = kv.substring(0, eq);
            if (key.equals("id") || key.equals("type")) {
                return "the " + key + " of a device cannot change; delete it and create another";
            }
            String value = kv.substring(eq + 1);
            if (value.isEmpty()) {
                properties.remove(key);
            } else {
                properties.put(key, value);
            }
        }
        instance.update(properties);
        return "device " + id + " reconfigured; it resumes under its driver once the new parts are up"
                + " (see the log)";
    }

    /**
     * Sets the target of balloon {@code id} to {@code mib} MiB, as an edit of its instance's
     * {@code target} key: kept in the configuration (a restarted container asks the same), applied to
     * the running balloon, which tells the guest with a configuration interrupt.
     */
    public String balloon(String id, String mib) throws IOException, InvalidSyntaxException {
        Configuration instance = instance(id);
        if (instance == null) {
            return "no device instance " + id + " (see virtio:list)";
        }
        Dictionary<String, Object> properties = instance.getProperties();
        if (!"balloon".equals(String.valueOf(properties.get("type")))) {
            return "device " + id + " is a " + properties.get("type") + ", not a balloon";
        }
        if (!mib.matches("[0-9]{1,9}")) {
            return "'" + mib + "' is not a whole number of MiB";
        }
        Map<String, String> keys = new TreeMap<>();
        for (String key : Collections.list(properties.keys())) {
            if (key.indexOf('.') < 0 && !key.equals("objectClass")) {
                keys.put(key, String.valueOf(properties.get(key)));
            }
        }
        keys.put("target", mib + "M");
        try {
            DeviceSpecs.check(keys);
        } catch (InstanceConfigException e) {
            return e.getMessage();
        }
        properties.put("target", mib + "M");
        instance.update(properties);
        return "balloon " + id + ": target " + mib + " MiB (" + (Long.parseLong(mib) * 256) + " pages)";
    }

    /** Ends device {@code id}'s connection to its driver, which reconnects and negotiates afresh. */
    public String reset(String id) {
        ServedDevice d = find(id);
        if (d == null) {
            return noDevice(id);
        }
        d.reset();
        return "device " + id + " reset";
    }

    private ServedDevice find(String id) {
        for (ServedDevice d : devices) {
            if (d.id().equals(id)) {
                return d;
            }
        }
        return null;
    }

    private Configuration instance(String id) throws IOException, InvalidSyntaxException {
        Configuration[] found = configAdmin.listConfigurations(
                "(&(service.factoryPid=" + DeviceInstance.PID + ")(id=" + id.replaceAll("[()*\\\\]", "") + "))");
        return found == null ? null : found[0];
    }

    private static String noDevice(String id) {
        return "no device " + id + " (see virtio:list)";
    }
}
