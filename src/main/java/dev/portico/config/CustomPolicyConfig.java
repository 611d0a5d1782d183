package dev.portico.config;

import dev.portico.policy.Policy;
import java.util.Map;
import java.util.Objects;

/**
 * A policy of the user's own: an instance given in Java, or a class named in YAML ({@code class:
 * com.example.MyPolicy}, {@code settings: {...}}), loaded from the classpath and made with its public constructor
 * taking a {@code Map<String, Object>} of the settings, or a public no-argument one when there are none.
 *
 * @param className the class name, or {@code ""} for an instance given in Java
 * @param settings the settings handed to the constructor
 * @param policy the instance
 */
public record CustomPolicyConfig(String className, Map<String, Object> settings, Policy policy)
        implements PolicyConfig {
    /** Checks presence. */
    public CustomPolicyConfig {
        Objects.requireNonNull(className, "class");
        settings = Map.copyOf(settings);
        Objects.requireNonNull(policy, "policy");
    }

    /**
     * @param policy the instance
     * @return its configuration
     */
    public static CustomPolicyConfig of(Policy policy) {
        return new CustomPolicyConfig("", Map.of(), policy);
    }

    /**
     * Loads and instantiates a policy class.
     *
     * @param className the fully qualified class name
     * @param settings the settings for its constructor
     * @param loader the class loader to load it with
     * @return its configuration
     * @throws IllegalArgumentException if the class cannot be found, is not a {@link Policy}, or fails to construct
     */
    public static CustomPolicyConfig load(String className, Map<String, Object> settings, ClassLoader loader) {
        Class<?> c;
        try {
            c = Class.forName(className, true, loader);
        } catch (ClassNotFoundException | LinkageError e) {
            throw new IllegalArgumentException("class " + className + " not found on the classpath (or in plugins/)");
        }
        if (!Policy.class.isAssignableFrom(c)) {
            throw new IllegalArgumentException("class " + className + " does not implement " + Policy.class.getName());
        }
        Object instance;
        try {
            try {
                instance = c.getConstructor(Map.class).newInstance(Map.copyOf(settings));
            } catch (NoSuchMethodException e) {
                if (!settings.isEmpty()) {
                    throw new IllegalArgumentException("class " + className
                            + " has no public constructor taking a Map of settings");
                }
                instance = c.getConstructor().newInstance();
            }
        } catch (NoSuchMethodException e) {
            throw new IllegalArgumentException("class " + className + " has no public constructor taking a Map of "
                    + "settings nor a public no-argument one");
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw new IllegalArgumentException("class " + className + " refused its settings: "
                    + e.getCause().getMessage());
        } catch (ReflectiveOperationException e) {
            throw new IllegalArgumentException("class " + className + " cannot be instantiated: " + e);
        }
        return new CustomPolicyConfig(className, settings, (Policy) instance);
    }

    /** Equal for the same class and settings (so a reload keeps the instance), else for the same instance. */
    @Override
    public boolean equals(Object o) {
        if (!(o instanceof CustomPolicyConfig other)) {
            return false;
        }
        return className.isEmpty() ? policy == other.policy
                : className.equals(other.className) && settings.equals(other.settings);
    }

    @Override
    public int hashCode() {
        return className.isEmpty() ? System.identityHashCode(policy) : className.hashCode() * 31 + settings.hashCode();
    }

    @Override
    public String type() {
        return "class";
    }
}
