package dev.portico.internal.ops;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Logback's first configurator: the main program's set-up when asked for, else out of the way. */
class MainLogConfiguratorTest {
    @AfterEach
    void nothingLeftAsking() {
        MainLogConfigurator.withdraw();
    }

    @Test
    void isRegisteredAsLogbacksServiceAndStepsAsideWhenNothingAsked() {
        List<Configurator> found = new ArrayList<>();
        ServiceLoader.load(Configurator.class).forEach(found::add);
        assertThat(found).hasAtLeastOneElementOfType(MainLogConfigurator.class);

        LoggerContext context = new LoggerContext();
        assertThat(new MainLogConfigurator().configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger("root").iteratorForAppenders().hasNext()).isFalse();
    }

    @Test
    void appliesWhatWasAskedForOnceAndEndsLogbacksSearch() {
        List<LoggerContext> configured = new ArrayList<>();
        MainLogConfigurator.request(configured::add);
        LoggerContext context = new LoggerContext();

        assertThat(new MainLogConfigurator().configure(context)).isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        assertThat(configured).containsExactly(context);
        assertThat(MainLogConfigurator.withdraw()).as("already applied").isFalse();
        assertThat(new MainLogConfigurator().configure(new LoggerContext()))
                .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    }

    @Test
    void aWithdrawnRequestIsNotApplied() {
        MainLogConfigurator.request(c -> {
            throw new AssertionError("withdrawn");
        });
        assertThat(MainLogConfigurator.withdraw()).isTrue();
        assertThat(new MainLogConfigurator().configure(new LoggerContext()))
                .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
    }
}
