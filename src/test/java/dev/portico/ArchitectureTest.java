package dev.portico;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaCodeUnit;
import com.tngtech.archunit.core.domain.JavaField;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.domain.JavaType;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The promises of the public API and the layering: what embedders may rely on ({@code dev.portico},
 * {@code dev.portico.config}, {@code dev.portico.policy}) never names an implementation type, and no two packages
 * depend on each other.
 */
class ArchitectureTest {
    private static final Set<String> API = Set.of("dev.portico", "dev.portico.config", "dev.portico.policy");
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS).importPackages("dev.portico");

    @Test
    void apiTypesExposeNoImplementationType() {
        List<String> leaks = new ArrayList<>();
        for (JavaClass c : CLASSES) {
            if (!API.contains(c.getPackageName()) || !isVisible(c.getModifiers())) {
                continue;
            }
            c.getRawSuperclass().ifPresent(s -> check(leaks, c.getName() + " extends", s));
            c.getRawInterfaces().forEach(i -> check(leaks, c.getName() + " implements", i));
            for (JavaCodeUnit m : c.getCodeUnits()) {
                if (!isVisible(m.getModifiers())) {
                    continue;
                }
                involved(leaks, m.getFullName() + " returns", m.getReturnType());
                for (JavaType p : m.getParameterTypes()) {
                    involved(leaks, m.getFullName() + " takes", p);
                }
            }
            for (JavaField f : c.getFields()) {
                if (isVisible(f.getModifiers())) {
                    involved(leaks, f.getFullName(), f.getType());
                }
            }
        }
        assertThat(leaks).as("API members that name implementation types").isEmpty();
    }

    @Test
    void everyPackageIsApiOrInternal() {
        for (JavaClass c : CLASSES) {
            assertThat(API.contains(c.getPackageName()) || c.getPackageName().startsWith("dev.portico.internal."))
                    .as("%s is neither in an API package nor under dev.portico.internal", c.getName()).isTrue();
        }
    }

    @Test
    void packagesHaveNoCycles() {
        slices().matching("(**)").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void thePolicyApiDependsOnNothingOfPorticos() {
        for (JavaClass c : CLASSES) {
            if (c.getPackageName().equals("dev.portico.policy")) {
                c.getDirectDependenciesFromSelf().forEach(d -> assertThat(d.getTargetClass().getPackageName())
                        .as(d.getDescription()).satisfiesAnyOf(p -> assertThat(p).doesNotStartWith("dev.portico"),
                                p -> assertThat(p).isEqualTo("dev.portico.policy")));
            }
        }
    }

    private static boolean isVisible(Set<JavaModifier> modifiers) {
        return modifiers.contains(JavaModifier.PUBLIC) || modifiers.contains(JavaModifier.PROTECTED);
    }

    private static void involved(List<String> leaks, String where, JavaType type) {
        for (JavaClass raw : type.getAllInvolvedRawTypes()) {
            check(leaks, where, raw);
        }
    }

    private static void check(List<String> leaks, String where, JavaClass type) {
        String p = type.getPackageName();
        if (p.startsWith("dev.portico") && !API.contains(p)) {
            leaks.add(where + " " + type.getName());
        }
    }
}
