package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the JVM does when the file behind a shared mapping is truncated and the mapping is then touched
 * through {@link MappedMemory#slice} views: direct ByteBuffers, so every access is an Unsafe access (no
 * JNA code touches guest memory). Each case runs in a child JVM ({@link TruncatedMappingProbe}), so that
 * a crash does not take the test runner down.
 *
 * <p>Found on OpenJDK 17.0.15 (x86-64):
 * <ul>
 * <li>Interpreted: every access kind throws {@code InternalError} ("a fault occurred in a recent unsafe
 *     memory access operation ...") from the access itself.</li>
 * <li>C2-compiled: HotSpot's SIGBUS handler skips the faulting instruction (a load returns garbage, a
 *     store is lost) and raises the InternalError <em>asynchronously</em>, at a later safepoint poll or
 *     VM transition of the same thread, i.e. after the access returned.</li>
 * <li>C2-compiled, and the instruction is one HotSpot cannot decode to skip (a 32-bit load widened to
 *     long, {@code movslq reg, [mem]}): the signal handler hits {@code ShouldNotReachHere} in
 *     {@code Assembler::locate_operand} and the JVM aborts (hs_err "Internal Error
 *     (assembler_x86.cpp:1105)"). Which instruction C2 picks depends on the code that uses a view, so
 *     compiled accesses to a truncated mapping cannot be made safe in Java.</li>
 * </ul>
 */
class TruncatedMappingTest {

    private static final List<String> SURVIVABLE = List.of("varhandle-read", "buffer-read", "varhandle-write",
            "buffer-write", "bulk-read", "bulk-write");

    @TempDir
    Path errors;

    @Test
    void interpretedAccessesThrowInternalErrorFromTheAccess() throws Exception {
        for (String kind : TruncatedMappingProbe.KINDS) {
            Child child = run("cold", kind, "-Xint");
            assertThat(child.exit).as(child.toString()).isZero();
            assertThat(child.out).as(child.toString())
                    .contains(kind + " -> InternalError inside the access: a fault occurred in a recent unsafe memory"
                            + " access operation in compiled Java code");
        }
    }

    @Test
    void compiledAccessesThrowInternalErrorLater() throws Exception {
        for (String kind : SURVIVABLE) {
            Child child = run("warm", kind, "-Xbatch", "-XX:-TieredCompilation");
            assertThat(child.exit).as(child.toString()).isZero();
            assertThat(child.out).as(child.toString()).anyMatch(line -> line.startsWith(kind + " -> InternalError"));
        }
    }

    @Test
    void aCompiledWideningLoadCrashesTheJvm() throws Exception {
        Child child = run("warm", "varhandle-read-widened", "-Xbatch", "-XX:-TieredCompilation");
        System.out.println(child);
        if (child.exit == 0) {
            // A JDK whose locate_operand decodes movslq: then it is survivable like the others.
            assertThat(child.out).anyMatch(line -> line.startsWith("varhandle-read-widened -> InternalError"));
        } else {
            assertThat(child.out).doesNotContain("survived");
            assertThat(child.hsErr).contains("Assembler::locate_operand");
        }
    }

    private Child run(String mode, String kind, String... jvmOptions) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        command.add("-XX:ErrorFile=" + errors.resolve("hs_err_" + kind + "_%p.log"));
        command.add("-XX:-CreateCoredumpOnCrash");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(TruncatedMappingProbe.class.getName());
        command.add(mode);
        command.add(kind);
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        byte[] bytes = process.getInputStream().readAllBytes();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).isTrue();
        StringBuilder hsErr = new StringBuilder();
        try (var files = Files.list(errors)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (f.getFileName().toString().startsWith("hs_err_" + kind + "_")) {
                    hsErr.append(Files.readString(f));
                }
            }
        }
        return new Child(List.of(new String(bytes, StandardCharsets.UTF_8).split("\n")), process.exitValue(),
                hsErr.toString());
    }

    private static final class Child {
        final List<String> out;
        final int exit;
        final String hsErr;

        Child(List<String> out, int exit, String hsErr) {
            this.out = out;
            this.exit = exit;
            this.hsErr = hsErr;
        }

        @Override
        public String toString() {
            return "exit " + exit + ": " + String.join(" | ", out);
        }
    }
}
