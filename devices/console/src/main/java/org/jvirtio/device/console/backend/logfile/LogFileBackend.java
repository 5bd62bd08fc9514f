package org.jvirtio.device.console.backend.logfile;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.LongAdder;

import org.jvirtio.device.console.backend.ConsoleBackend;
import org.jvirtio.device.console.backend.ConsoleInput;
import org.jvirtio.device.console.backend.ConsolePort;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * Appends the guest's output to a file (created if missing, never truncated), and sends nothing to
 * the guest. It is always listening, so the guest sees the port's host side open and a program writing
 * to a named port never waits. A failed write is logged once and counted; the guest goes on.
 */
@Component(service = ConsoleBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = LogFileBackend.PID)
@Designate(ocd = LogFileBackend.Config.class, factory = true)
public final class LogFileBackend implements ConsoleBackend, AutoCloseable {
    public static final String PID = "org.jvirtio.console.backend.log";
    private static final Logger LOG = System.getLogger("org.jvirtio.device.console.log");

    @ObjectClassDefinition(name = "jvirtio console backend: log file", description = "Appends guest output to a file")
    public @interface Config {
        /** The file; its directory must exist. */
        String path();

        /** The port of its device this backend serves. */
        int port() default 0;
    }

    private final Path path;
    private final FileChannel channel;
    private final LongAdder bytes = new LongAdder();
    private final LongAdder failedWrites = new LongAdder();
    private volatile boolean attached;

    @Activate
    public LogFileBackend(Config config) {
        this(Path.of(config.path()));
    }

    public LogFileBackend(Path path) {
        this.path = path;
        try {
            this.channel = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open console log " + path, e);
        }
    }

    @Override
    public synchronized ConsolePort attach(ConsoleInput input) {
        if (attached) {
            throw new IllegalStateException("the console log " + path + " serves a port already");
        }
        attached = true;
        input.hostConnected(true);
        return new ConsolePort() {
            @Override
            public void write(ByteBuffer output) {
                int n = output.remaining();
                try {
                    while (output.hasRemaining()) {
                        channel.write(output);
                    }
                    bytes.add(n);
                } catch (IOException e) {
                    output.position(output.limit());
                    failedWrites.increment();
                    if (failedWrites.sum() == 1) {
                        LOG.log(Level.WARNING, "console log " + path + ": write failed (further failures only counted)", e);
                    }
                }
            }

            @Override
            public void inputRoom() {
                // a log sends nothing
            }

            @Override
            public void close() {
                attached = false;
            }
        };
    }

    /** Bytes appended. */
    public long bytes() {
        return bytes.sum();
    }

    public long failedWrites() {
        return failedWrites.sum();
    }

    public Path path() {
        return path;
    }

    @Deactivate
    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            LOG.log(Level.WARNING, "closing console log " + path, e);
        }
    }

    @Override
    public String toString() {
        return "LogFileBackend[" + path + "]";
    }
}
