package dev.whatami.emulator;

import java.util.Objects;
import java.util.function.Consumer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.ParameterContext;
import org.junit.jupiter.api.extension.ParameterResolver;

/**
 * A JUnit 5 extension that runs a {@link MetadataEmulator} for each test, or one for a whole class, and injects it
 * into test and lifecycle method parameters of type {@link MetadataEmulator}.
 *
 * <pre>{@code
 * class PerTest {
 *     @RegisterExtension
 *     final MetadataEmulatorExtension imds = MetadataEmulatorExtension.with(b -> b.userData("a.sh 10.0.0.1"));
 *
 *     @Test
 *     void readsUserData() {
 *         URI endpoint = imds.emulator().endpoint();
 *     }
 * }
 *
 * class PerClass {
 *     @RegisterExtension
 *     static final MetadataEmulatorExtension IMDS = MetadataEmulatorExtension.with(b -> b.imdsV2Required(true));
 *
 *     @Test
 *     void t(MetadataEmulator imds) { ... }
 * }
 *
 * @ExtendWith(MetadataEmulatorExtension.class)   // default settings (EC2, no user-data), one per test
 * class Declarative {
 *     @Test
 *     void t(MetadataEmulator imds) { ... }
 * }
 * }</pre>
 *
 * Registered in a static field it starts one emulator before all tests of the class and stops it after them; its
 * faults and request log are cleared before each test. Registered in an instance field, or with
 * {@code @ExtendWith}, each test gets a fresh emulator. JUnit Jupiter's API is an optional dependency of this
 * module: add {@code junit-jupiter} to your tests to use this class.
 */
public final class MetadataEmulatorExtension implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback,
        AfterEachCallback, ParameterResolver {
    private final Consumer<MetadataService.Builder> settings;
    private MetadataEmulator emulator;
    private boolean perClass;

    /** Default settings: EC2 only, no user-data, IMDSv2 optional. */
    public MetadataEmulatorExtension() {
        this(b -> { });
    }

    private MetadataEmulatorExtension(Consumer<MetadataService.Builder> settings) {
        this.settings = settings;
    }

    /** An extension whose emulators are configured by {@code settings} (called once per emulator started). */
    public static MetadataEmulatorExtension with(Consumer<MetadataService.Builder> settings) {
        return new MetadataEmulatorExtension(Objects.requireNonNull(settings, "settings"));
    }

    /**
     * The running emulator.
     *
     * @throws IllegalStateException outside a test (before the extension started one)
     */
    public synchronized MetadataEmulator emulator() {
        if (emulator == null) {
            throw new IllegalStateException("the metadata emulator runs only during a test; register the extension "
                    + "with @RegisterExtension or @ExtendWith and use it from a test or a @BeforeEach method");
        }
        return emulator;
    }

    private synchronized void startEmulator() {
        MetadataService.Builder b = MetadataService.builder();
        settings.accept(b);
        emulator = b.start();
    }

    private synchronized void stopEmulator() {
        if (emulator != null) {
            emulator.close();
            emulator = null;
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        perClass = true;
        startEmulator();
    }

    @Override
    public void afterAll(ExtensionContext context) {
        stopEmulator();
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        synchronized (this) {
            if (perClass && emulator != null) {
                emulator.faults().clear();
                emulator.service().clearRequests();
                return;
            }
        }
        startEmulator();
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (!perClass) {
            stopEmulator();
        }
    }

    @Override
    public boolean supportsParameter(ParameterContext parameter, ExtensionContext context) {
        return parameter.getParameter().getType() == MetadataEmulator.class;
    }

    @Override
    public Object resolveParameter(ParameterContext parameter, ExtensionContext context) {
        return emulator();
    }
}
