// weather: forecasts from a fixed table for the cities named in the text.
import { CITIES, citiesIn } from './cities';
import { start } from './runtime';

start({
  name: 'weather',
  description: 'Weather forecasts for well-known cities (fixed table, deterministic)',
  skills: [
    {
      id: 'forecast',
      name: 'Forecast',
      description: `Temperature and conditions for the cities named in the message: ${CITIES.map((c) => c.id).join(', ')}`,
      tags: ['weather', 'forecast'],
      examples: ['What is the weather in Paris?'],
    },
  ],
  handle({ text }) {
    const found = citiesIn(text);
    if (found.length === 0) {
      return { summary: `no known city in the message (known: ${CITIES.map((c) => c.id).join(', ')})`, result: { forecasts: [] } };
    }
    const forecasts = found.map((c) => ({ city: c.id, celsius: c.celsius, conditions: c.conditions }));
    return { summary: forecasts.map((f) => `${f.city} ${f.celsius}°C ${f.conditions}`).join('; '), result: { forecasts } };
  },
});
