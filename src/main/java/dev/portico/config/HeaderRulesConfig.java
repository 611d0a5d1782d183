package dev.portico.config;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The header rules of one direction of a {@code headers} policy, applied in this order: {@code remove}, {@code set},
 * {@code set_if_absent}, {@code add}.
 *
 * @param set fields replaced (every line of the name, whatever its case, becomes one)
 * @param add field lines appended
 * @param remove names removed (case-insensitive)
 * @param setIfAbsent fields set only when the name is absent
 */
public record HeaderRulesConfig(List<HeaderField> set, List<HeaderField> add, List<String> remove,
                                List<HeaderField> setIfAbsent) {
    /** No rules. */
    public static final HeaderRulesConfig NONE = new HeaderRulesConfig(List.of(), List.of(), List.of(), List.of());

    /** Copies the lists and checks the names to remove. */
    public HeaderRulesConfig {
        set = List.copyOf(set);
        add = List.copyOf(add);
        setIfAbsent = List.copyOf(setIfAbsent);
        remove = List.copyOf(remove);
        remove.forEach(HeaderField::fieldName);
    }

    /** @return whether there is no rule */
    public boolean isEmpty() {
        return set.isEmpty() && add.isEmpty() && remove.isEmpty() && setIfAbsent.isEmpty();
    }

    /** @return a builder with no rules */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds {@link HeaderRulesConfig}. Not thread-safe. */
    public static final class Builder {
        private final List<HeaderField> set = new ArrayList<>();
        private final List<HeaderField> add = new ArrayList<>();
        private final List<String> remove = new ArrayList<>();
        private final List<HeaderField> setIfAbsent = new ArrayList<>();

        Builder() {
        }

        /**
         * @param name field name
         * @param value value template
         * @return this
         */
        public Builder set(String name, String value) {
            set.add(HeaderField.of(name, value));
            return this;
        }

        /**
         * @param name field name
         * @param value value template
         * @return this
         */
        public Builder add(String name, String value) {
            add.add(HeaderField.of(name, value));
            return this;
        }

        /**
         * @param name field name
         * @param value value template
         * @return this
         */
        public Builder setIfAbsent(String name, String value) {
            setIfAbsent.add(HeaderField.of(name, value));
            return this;
        }

        /**
         * @param names field names to remove
         * @return this
         */
        public Builder remove(String... names) {
            for (String n : names) {
                remove.add(Objects.requireNonNull(n, "name"));
            }
            return this;
        }

        /** @return the rules */
        public HeaderRulesConfig build() {
            return new HeaderRulesConfig(set, add, remove, setIfAbsent);
        }
    }
}
